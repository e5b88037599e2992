package sluice.peer;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Dead letters of the Flink job: the validate stage sends a record it turns down, with its
 * {@link Rejected}, to a side output, and this writes it to the dead-letter topic as the Kafka
 * Streams peer's DeadLetters (bench/peers/kafka-streams) does: the source record's original key,
 * bytes, headers and timestamp (the e2e bench measures latency by it), with Sluice's reason headers.
 */
final class DeadLetters extends ToTopic<DeadLetters.DeadLetter> {
  /**
   * A record a stage turned down, thrown by CampaignCheck (shared with the Kafka Streams peer,
   * whose DeadLetters.Rejected has the same constructor): one per invalid message, so no stack trace.
   */
  static final class Rejected extends RuntimeException {
    final String flow;
    final String stage;
    final String reason;
    final String path;

    Rejected(String flow, String stage, String reason, String message, String path) {
      super(message == null ? reason : message, null, false, false);
      this.flow = flow;
      this.stage = stage;
      this.reason = reason;
      this.path = path;
    }
  }

  /** The side output's element: the source record and why it was turned down. */
  record DeadLetter(ConsumerRecord<byte[], byte[]> source, Rejected rejected) {}

  DeadLetters(String topic) {
    super(topic);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(DeadLetter letter, KafkaSinkContext context, Long timestamp) {
    ConsumerRecord<byte[], byte[]> source = letter.source();
    Rejected rejected = letter.rejected();
    Headers headers = new RecordHeaders(source.headers().toArray());
    add(headers, "sluice.flow", rejected.flow);
    add(headers, "sluice.stage", rejected.stage);
    add(headers, "sluice.reason", rejected.reason);
    add(headers, "sluice.message", rejected.getMessage());
    if (rejected.path != null) add(headers, "sluice.path", rejected.path);
    add(headers, "sluice.source.topic", source.topic());
    add(headers, "sluice.source.partition", Integer.toString(source.partition()));
    add(headers, "sluice.source.offset", Long.toString(source.offset()));
    return new ProducerRecord<>(topic, null, source.timestamp(), source.key(), source.value(), headers);
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
