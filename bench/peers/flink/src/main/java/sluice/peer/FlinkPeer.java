package sluice.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.SecurityOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Flink peer of Sluice's campaign flow without enrichment, on a local mini-cluster in this JVM:
 *
 *   java -jar target/flink-peer.jar bootstrap=127.0.0.1:9092 input=in output=out dlq=dlq \
 *     schema=config/rules/campaign.schema.json [guarantee=at_least_once|exactly_once] \
 *     [parallelism=1] [group-id=flink-peer] [checkpoint-ms=1000 at-least-once, 100 exactly-once]
 *
 * KafkaSource, then one function validates (CampaignCheck: Jackson, networknt), drops heartbeats and
 * maps to the EventRecord keyed by userId, as the Kafka Streams peer's processor does; invalid
 * records go to a side output, written to the dead-letter topic by DeadLetters. Checkpoints commit
 * the source's offsets; exactly-once, each sink writes in Kafka transactions committed when a
 * checkpoint completes, so outputs become visible once per interval (100 ms by default: Kafka
 * Streams' commit interval exactly-once). Runs until SIGTERM; a failure stops the job and exits 1
 * (no restarts).
 */
public final class FlinkPeer {
  private static final OutputTag<DeadLetters.DeadLetter> DEAD_LETTERS =
      new OutputTag<>("dead-letters", TypeInformation.of(DeadLetters.DeadLetter.class));

  public static void main(String[] args) throws Exception {
    Map<String, String> options = Arguments.parse(args);
    String guarantee = options.getOrDefault("guarantee", "at_least_once");
    boolean exactlyOnce = switch (guarantee) {
      case "at_least_once" -> false;
      case "exactly_once" -> true;
      default -> throw new IllegalArgumentException("guarantee is at_least_once or exactly_once, not " + guarantee);
    };
    int parallelism = Integer.parseInt(options.getOrDefault("parallelism", "1"));
    long checkpointMs = Long.parseLong(options.getOrDefault("checkpoint-ms", exactlyOnce ? "100" : "1000"));
    String groupId = options.getOrDefault("group-id", "flink-peer");
    String bootstrap = Arguments.required(options, "bootstrap");
    String schema = CampaignCheck.readSchema(Path.of(Arguments.required(options, "schema")));

    Configuration config = new Configuration();
    // every operator is chained: records are handed on, not copied through serializers
    config.set(PipelineOptions.OBJECT_REUSE, true);
    config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    config.set(SecurityOptions.DELEGATION_TOKENS_ENABLED, false); // no Kerberos, nor its warnings
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, config);
    env.enableCheckpointing(checkpointMs, exactlyOnce ? CheckpointingMode.EXACTLY_ONCE : CheckpointingMode.AT_LEAST_ONCE);

    KafkaSource<ConsumerRecord<byte[], byte[]>> source = KafkaSource.<ConsumerRecord<byte[], byte[]>>builder()
        .setBootstrapServers(bootstrap)
        .setTopics(Arguments.required(options, "input"))
        .setGroupId(groupId)
        .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
        .setDeserializer(new Records())
        .build();
    SingleOutputStreamOperator<Tuple2<byte[], byte[]>> events = env
        .fromSource(source, WatermarkStrategy.noWatermarks(), "source")
        .process(new ValidateFilterMap(schema), TypeInformation.of(new TypeHint<Tuple2<byte[], byte[]>>() {}))
        .name("validate-filter-map");
    // the record's timestamp in the stream is the source record's: outputs keep it, as Sluice's do
    ToTopic<Tuple2<byte[], byte[]>> toOutput = new ToTopic<>(Arguments.required(options, "output")) {
      @Override
      public ProducerRecord<byte[], byte[]> serialize(Tuple2<byte[], byte[]> event, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, null, timestamp, event.f0, event.f1);
      }
    };
    events.sinkTo(sink(bootstrap, exactlyOnce, groupId + "-output", toOutput)).name("output");
    events.getSideOutput(DEAD_LETTERS)
        .sinkTo(sink(bootstrap, exactlyOnce, groupId + "-dlq", new DeadLetters(Arguments.required(options, "dlq"))))
        .name("dead-letters");

    System.err.printf("flink peer: %s, parallelism %d, a checkpoint every %d ms%n", guarantee, parallelism, checkpointMs);
    try {
      env.execute("campaign");
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1); // the mini-cluster's threads would keep the JVM up
    }
  }

  private static <T> KafkaSink<T> sink(String bootstrap, boolean exactlyOnce, String transactionalIdPrefix, KafkaRecordSerializationSchema<T> serializer) {
    return KafkaSink.<T>builder()
        .setBootstrapServers(bootstrap)
        .setRecordSerializer(serializer)
        .setDeliveryGuarantee(exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
        .setTransactionalIdPrefix(transactionalIdPrefix)
        // reuses its transactional ids (the default makes a new one per checkpoint)
        .setTransactionNamingStrategy(TransactionNamingStrategy.POOLING)
        // the sink's default (1 h) is over the broker's transaction.max.timeout.ms (15 min by default)
        .setProperty("transaction.timeout.ms", "60000")
        .build();
  }

  /** The source's records as they are: the dead letters want their key, headers, topic, partition and offset. */
  private static final class Records implements KafkaRecordDeserializationSchema<ConsumerRecord<byte[], byte[]>> {
    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ConsumerRecord<byte[], byte[]>> out) {
      out.collect(record);
    }

    @Override
    public TypeInformation<ConsumerRecord<byte[], byte[]>> getProducedType() {
      return TypeInformation.of(new TypeHint<ConsumerRecord<byte[], byte[]>>() {});
    }
  }

  /** Validate + drop heartbeats + map, keyed by userId: (key, value) bytes; invalid records to the side output. */
  private static final class ValidateFilterMap extends ProcessFunction<ConsumerRecord<byte[], byte[]>, Tuple2<byte[], byte[]>> {
    private final String schema;
    private transient CampaignCheck check;

    ValidateFilterMap(String schema) {
      this.schema = schema;
    }

    @Override
    public void open(OpenContext context) {
      check = new CampaignCheck(schema, "campaign", "campaign.validate");
    }

    @Override
    public void processElement(ConsumerRecord<byte[], byte[]> record, Context context, Collector<Tuple2<byte[], byte[]>> out) {
      JsonNode event;
      try {
        event = check.parseValid(record.value());
      } catch (Rejected rejected) {
        context.output(DEAD_LETTERS, new DeadLetters.DeadLetter(record, rejected));
        return;
      }
      if (CampaignCheck.isHeartbeat(event)) return;
      ObjectNode eventRecord = check.toEventRecord(event);
      out.collect(Tuple2.of(CampaignCheck.utf8(eventRecord.get("userId").textValue()), CampaignCheck.bytes(eventRecord)));
    }
  }
}
