package dev.tuneforge.llm.data;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

/**
 * {@code {% generation %}...{% endgeneration %}}: renders its body between two private-use marker
 * characters, which {@link ChatTemplate} turns into assistant spans and removes.
 */
final class GenerationTag implements Tag {
  private final char start;
  private final char end;

  GenerationTag(char start, char end) {
    this.start = start;
    this.end = end;
  }

  @Override
  public String getName() {
    return "generation";
  }

  @Override
  public String getEndTagName() {
    return "endgeneration";
  }

  @Override
  public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
    StringBuilder body = new StringBuilder().append(start);
    for (Node child : tagNode.getChildren()) {
      body.append(child.render(interpreter).getValue());
    }
    return body.append(end).toString();
  }
}
