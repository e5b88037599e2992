package sluice.peer;

import java.io.File;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;

/**
 * Restore rate of a Kafka Streams key-value store (RocksDB) from its changelog, the peer of
 * bench/state-restore.bench.ts: keys=N records (default 1,000,000; the same keys and 24-byte values)
 * written to the compacted changelog of store "seen" (one partition), then the application starts
 * on an empty state dir and restores it (records/s from its restore listener), stops cleanly
 * (writing its checkpoint) and starts again (what the checkpoint saves).
 *
 *   java -jar target/campaign-peer.jar job=restore bootstrap=127.0.0.1:9092 [keys=1000000]
 *     [application-id=restore-peer] [state-dir=DIR]
 */
final class RestoreBench {
  private RestoreBench() {}

  static void run(Map<String, String> options) throws Exception {
    String bootstrap = Arguments.required(options, "bootstrap");
    long keys = Long.parseLong(options.getOrDefault("keys", "1000000"));
    String app = options.getOrDefault("application-id", "restore-peer-" + Long.toString(System.currentTimeMillis(), 36));
    options.put("application-id", app);
    if (!options.containsKey("state-dir")) options.put("state-dir", java.nio.file.Files.createTempDirectory("restore-peer-").toString());
    String input = app + "-input";
    String changelog = app + "-seen-changelog";

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(
          new NewTopic(input, 1, (short) 1),
          new NewTopic(changelog, 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
    }
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    producerProps.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    producerProps.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    long writeStart = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
      byte[] value = new byte[24];
      java.util.Arrays.fill(value, (byte) 7);
      for (long i = 0; i < keys; i++) {
        String id = Long.toString(i, 36);
        String key = "evt-" + "0".repeat(Math.max(0, 8 - id.length())) + id + "-0000000000000000000000";
        producer.send(new ProducerRecord<>(changelog, 0, CampaignCheck.utf8(key), value));
      }
      producer.flush();
    }
    System.out.printf("wrote %d changelog records in %.1f s%n", keys, (System.nanoTime() - writeStart) / 1e9);

    Restore cold = start(options, input);
    System.out.printf("kafka-streams: restore without a checkpoint: %d records in %.2f s = %d records/s (ready after %.2f s)%n",
        cold.restored, cold.restoreSeconds, Math.round(cold.restored / cold.restoreSeconds), cold.readySeconds);
    Restore warm = start(options, input);
    System.out.printf("kafka-streams: restart with its checkpoint: %d records restored, ready after %.2f s%n", warm.restored, warm.readySeconds);
    deleteTree(new File(options.get("state-dir")));
  }

  private record Restore(long restored, double restoreSeconds, double readySeconds) {}

  /** Starts the application, waits until it runs (its store restored), closes it cleanly. */
  private static Restore start(Map<String, String> options, String input) throws InterruptedException {
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("seen"), Serdes.Bytes(), Serdes.Bytes()));
    builder.stream(input, Consumed.with(Serdes.Bytes(), Serdes.Bytes()))
        .process(() -> new Processor<Bytes, Bytes, Void, Void>() {
          @Override
          public void process(Record<Bytes, Bytes> record) {} // the store is only restored
        }, "seen");
    Properties props = CampaignPeer.properties(options);
    KafkaStreams streams = new KafkaStreams(builder.build(props), props);
    AtomicLong restored = new AtomicLong();
    AtomicLong restoreStart = new AtomicLong();
    AtomicLong restoreEnd = new AtomicLong();
    streams.setGlobalStateRestoreListener(new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition partition, String store, long startingOffset, long endingOffset) {
        restoreStart.set(System.nanoTime());
      }

      @Override
      public void onBatchRestored(TopicPartition partition, String store, long batchEndOffset, long numRestored) {}

      @Override
      public void onRestoreEnd(TopicPartition partition, String store, long totalRestored) {
        restoreEnd.set(System.nanoTime());
        restored.set(totalRestored);
      }
    });
    CountDownLatch running = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.RUNNING) running.countDown();
    });
    long started = System.nanoTime();
    streams.start();
    if (!running.await(10, TimeUnit.MINUTES)) throw new IllegalStateException("not running after 10 minutes");
    double ready = (System.nanoTime() - started) / 1e9;
    streams.close();
    double restoreSeconds = restoreEnd.get() == 0 ? 0 : (restoreEnd.get() - restoreStart.get()) / 1e9;
    return new Restore(restored.get(), restoreSeconds, ready);
  }

  private static void deleteTree(File file) {
    File[] children = file.listFiles();
    if (children != null) for (File child : children) deleteTree(child);
    file.delete();
  }
}
