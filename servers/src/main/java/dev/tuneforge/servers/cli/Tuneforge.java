package dev.tuneforge.servers.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** Entry point of {@code ./tuneforge}: runs TuneForge on one machine. */
@Command(
    name = "tuneforge",
    mixinStandardHelpOptions = true,
    version = "tuneforge 0.1.0",
    description = "Fine-tune LLMs with TuneForge on this machine.",
    subcommands = {
      Tuneforge.Up.class,
      Tuneforge.Down.class,
      Tuneforge.Status.class,
      Tuneforge.Stack.class,
      Publish.class,
      Put.class,
      Demo.class,
      DashboardCheck.class
    })
public final class Tuneforge {
  @Option(
      names = "--home",
      description =
          "State, data and logs of the local stack (default: $TUNEFORGE_HOME or ./.tuneforge).",
      defaultValue = "${env:TUNEFORGE_HOME:-.tuneforge}")
  Path home;

  @Option(
      names = "--repo",
      description =
          "The TuneForge checkout whose services to run (default: the current directory).",
      defaultValue = "${sys:tuneforge.repo:-.}")
  Path repo;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  LocalStack stack() {
    return new LocalStack(home, repo, spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with errors reported as one line naming what failed. */
  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Tuneforge());
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("tuneforge: " + e.getMessage());
          return 1;
        });
    return commandLine;
  }

  /** Ports of the stack's servers. */
  static final class StackPorts {
    @Option(
        names = "--kafka-port",
        defaultValue = "9092",
        description = "Kafka port (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(
        names = "--kafka-controller-port",
        defaultValue = "9093",
        description = "Kafka KRaft controller port (default: ${DEFAULT-VALUE}).")
    int controllerPort;

    @Option(
        names = "--s3-port",
        defaultValue = "9000",
        description = "S3 port (default: ${DEFAULT-VALUE}).")
    int s3Port;
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "up",
      description = "Start Kafka, S3 and every service; print where they listen.")
  static final class Up implements Callable<Integer> {
    @ParentCommand Tuneforge parent;
    @CommandLine.Mixin StackPorts ports = new StackPorts();

    @Override
    public Integer call() {
      LocalStack stack = parent.stack();
      stack.up(ports.kafkaPort, ports.controllerPort, ports.s3Port);
      stack.servicesUp();
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "down",
      description = "Stop every service, then S3 and Kafka. Data is kept.")
  static final class Down implements Callable<Integer> {
    @ParentCommand Tuneforge parent;

    @Override
    public Integer call() {
      parent.stack().down();
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "status",
      description = "Show each process: running or stopped, port, pid, RSS.")
  static final class Status implements Callable<Integer> {
    @ParentCommand Tuneforge parent;

    @Override
    public Integer call() {
      parent.stack().status();
      return 0;
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "stack",
      description = "Only the infrastructure: a Kafka broker (KRaft) and an S3 server.",
      subcommands = {Stack.StackUp.class, Stack.StackDown.class, Stack.StackStatus.class})
  static final class Stack {
    @ParentCommand Tuneforge parent;

    @Command(
        mixinStandardHelpOptions = true,
        name = "up",
        description = "Start Kafka and S3; data survives a restart.")
    static final class StackUp implements Callable<Integer> {
      @ParentCommand Stack stack;
      @CommandLine.Mixin StackPorts ports = new StackPorts();

      @Override
      public Integer call() {
        stack.parent.stack().up(ports.kafkaPort, ports.controllerPort, ports.s3Port);
        return 0;
      }
    }

    @Command(
        mixinStandardHelpOptions = true,
        name = "down",
        description = "Stop S3 and Kafka (and any services using them).")
    static final class StackDown implements Callable<Integer> {
      @ParentCommand Stack stack;

      @Override
      public Integer call() {
        stack.parent.stack().down();
        return 0;
      }
    }

    @Command(
        mixinStandardHelpOptions = true,
        name = "status",
        description = "Show Kafka and S3: running or stopped, port, pid, RSS.")
    static final class StackStatus implements Callable<Integer> {
      @ParentCommand Stack stack;

      @Override
      public Integer call() {
        stack.parent.stack().status();
        return 0;
      }
    }
  }
}
