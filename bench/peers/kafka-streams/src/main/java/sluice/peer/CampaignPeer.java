package sluice.peer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.ContextualFixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * Kafka Streams peers of Sluice's flows, one job per run:
 *
 *   java -jar target/campaign-peer.jar job=campaign bootstrap=127.0.0.1:9092 input=in output=out \
 *     dlq=dlq schema=config/rules/campaign.schema.json [guarantee=at_least_once|exactly_once_v2]
 *     [application-id=campaign-peer] [threads=1] [state-dir=DIR]
 *
 *   job=campaign            the campaign flow without enrichment: validate, drop heartbeats, map
 *   job=campaign-stateful   the same with a dedupe by eventId and the placement from a GlobalKTable
 *                           (placements=TOPIC): see StatefulCampaign
 *   job=engagement          per item per minute: impressions, clicks, conversions, value (Engagement)
 *   job=restore             restore rate of a 1,000,000-key store from its changelog (RestoreBench)
 *
 * Runs until SIGTERM (restore: until measured). Dead letters go through Kafka Streams' dead-letter
 * queue (DeadLetters): the original key and bytes, with Sluice's reason headers.
 */
public final class CampaignPeer {
  public static void main(String[] args) throws Exception {
    Map<String, String> options = Arguments.parse(args);
    String job = options.getOrDefault("job", "campaign");
    if (job.equals("restore")) {
      RestoreBench.run(options);
      return;
    }
    String schema = CampaignCheck.readSchema(Path.of(Arguments.required(options, "schema")));
    StreamsBuilder builder = new StreamsBuilder();
    switch (job) {
      case "campaign" -> campaign(builder, options, schema);
      case "campaign-stateful" -> StatefulCampaign.build(builder, options, schema);
      case "engagement" -> Engagement.build(builder, options, schema);
      default -> throw new IllegalArgumentException("job is campaign, campaign-stateful, engagement or restore, not " + job);
    }
    run(builder, options);
  }

  /** Validate + drop heartbeats + map, keyed by userId; invalid events are dead letters. */
  private static void campaign(StreamsBuilder builder, Map<String, String> options, String schema) {
    builder
        .stream(Arguments.required(options, "input"), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .processValues(() -> new ContextualFixedKeyProcessor<byte[], byte[], JsonNode>() {
          private final CampaignCheck check = new CampaignCheck(schema, "campaign", "campaign.validate");

          @Override
          public void process(FixedKeyRecord<byte[], byte[]> record) {
            JsonNode event = check.parseValid(record.value());
            if (!CampaignCheck.isHeartbeat(event)) context().forward(record.withValue(check.toEventRecord(event)));
          }
        }, Named.as("validate-filter-map"))
        .map((key, eventRecord) -> KeyValue.pair(CampaignCheck.utf8(eventRecord.get("userId").textValue()), CampaignCheck.bytes(eventRecord)))
        .to(Arguments.required(options, "output"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  static Properties properties(Map<String, String> options) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, options.getOrDefault("application-id", "campaign-peer"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, Arguments.required(options, "bootstrap"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, options.getOrDefault("guarantee", StreamsConfig.AT_LEAST_ONCE));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(options.getOrDefault("threads", "1")));
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // the engagement job's repartition topic carries event time (occurredAt): a broker refuses
    // timestamps over an hour ahead of its clock by default (Kafka 4), which would stop the job
    props.put(StreamsConfig.topicPrefix("message.timestamp.after.max.ms"), Long.toString(Long.MAX_VALUE));
    if (options.containsKey("state-dir")) props.put(StreamsConfig.STATE_DIR_CONFIG, options.get("state-dir"));
    if (options.containsKey("dlq")) {
      props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, options.get("dlq"));
      props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetters.class);
      props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true); // 5.0's default
    }
    return props;
  }

  private static void run(StreamsBuilder builder, Map<String, String> options) throws InterruptedException {
    Properties props = properties(options);
    KafkaStreams streams = new KafkaStreams(builder.build(props), props);
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
}
