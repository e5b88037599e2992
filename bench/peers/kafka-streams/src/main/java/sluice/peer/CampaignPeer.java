package sluice.peer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.ContextualFixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Kafka Streams peer of Sluice's campaign flow (validate + filter + map + produce, no enrichment).
 *
 *   java -jar target/campaign-peer.jar bootstrap=127.0.0.1:9092 input=in output=out dlq=dlq \
 *     schema=config/rules/campaign.schema.json [guarantee=at_least_once|exactly_once_v2]
 *     [application-id=campaign-peer] [threads=1]
 *
 * Runs until SIGTERM. Dead letters keep the original key and bytes, with Sluice's reason headers.
 */
public final class CampaignPeer {
  private static final String STAGE = "campaign.validate";

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 1) throw new IllegalArgumentException("arguments are key=value, not " + arg);
      options.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    String schema = CampaignCheck.readSchema(Path.of(required(options, "schema")));

    StreamsBuilder builder = new StreamsBuilder();
    Map<String, KStream<byte[], CampaignCheck.Outcome>> routes = builder
        .stream(required(options, "input"), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .processValues(() -> new ContextualFixedKeyProcessor<byte[], byte[], CampaignCheck.Outcome>() {
          private final CampaignCheck check = new CampaignCheck(schema);

          @Override
          public void process(FixedKeyRecord<byte[], byte[]> record) {
            CampaignCheck.Outcome outcome = check.check(record.value());
            if (outcome.deadLetter()) addReason(record.headers(), outcome);
            context().forward(record.withValue(outcome));
          }

          private void addReason(Headers headers, CampaignCheck.Outcome outcome) {
            add(headers, "sluice.flow", "campaign");
            add(headers, "sluice.stage", STAGE);
            add(headers, "sluice.reason", outcome.reason());
            add(headers, "sluice.message", outcome.message());
            if (outcome.path() != null) add(headers, "sluice.path", outcome.path());
            context().recordMetadata().ifPresent((source) -> {
              add(headers, "sluice.source.topic", source.topic());
              add(headers, "sluice.source.partition", Integer.toString(source.partition()));
              add(headers, "sluice.source.offset", Long.toString(source.offset()));
            });
          }
        }, Named.as("validate-map"))
        .split(Named.as("route-"))
        .branch((key, outcome) -> outcome.deadLetter(), Branched.as("invalid"))
        .branch((key, outcome) -> outcome.output(), Branched.as("valid"))
        .noDefaultBranch(); // filtered: neither output nor dead letter
    routes.get("route-invalid")
        .mapValues(CampaignCheck.Outcome::value)
        .to(required(options, "dlq"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    routes.get("route-valid")
        .map((key, outcome) -> KeyValue.pair(outcome.key(), outcome.value()))
        .to(required(options, "output"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, options.getOrDefault("application-id", "campaign-peer"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(options, "bootstrap"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, options.getOrDefault("guarantee", StreamsConfig.AT_LEAST_ONCE));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(options.getOrDefault("threads", "1")));
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.setUncaughtExceptionHandler((error) -> {
      error.printStackTrace();
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    stopped.await();
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String required(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) throw new IllegalArgumentException("missing argument " + name + "=...");
    return value;
  }
}
