#!/usr/bin/env bash
# Dataset preparation throughput (records/s on one core) for short chat records, and the
# resident memory of datasets with a 5 MB record.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -q -pl data-service -am install -DskipTests -Dspotless.check.skip=true >/dev/null
mvn -q -pl data-service dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
exec java -Xmx512m -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "data-service/target/classes:$(cat data-service/target/bench.classpath)" \
  dev.tuneforge.data.prepare.PrepareBench "$@"
