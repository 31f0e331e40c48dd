#!/usr/bin/env bash
# The pipeline benchmark: on the packaged services with real Kafka and S3, the time from a job
# request to its first training step and each stage's duration (from the events' broker
# timestamps), and reward-service's throughput over Kafka with one and with two replicas.
# Needs the reactor built once (mvn -DskipTests install). Prints the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -o -q -pl e2e-tests verify -Dtest=PipelineBench -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false >/dev/null
cat e2e-tests/target/pipeline-bench.txt
