package sluice.peer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;

/**
 * Dead letters of the Flink job: the validate stage sends a record it turns down, with its
 * {@link Rejected}, to a side output, and this writes it to the dead-letter topic as the Kafka
 * Streams peer's DeadLetters (bench/peers/kafka-streams) does: the source record's original key,
 * bytes, headers and timestamp (the e2e bench measures latency by it), with Sluice's reason headers.
 */
final class DeadLetters extends ToTopic<DeadLetters.DeadLetter> {
  /** The side output's element: the source record and why it was turned down. */
  record DeadLetter(ConsumerRecord<byte[], byte[]> source, Rejected rejected) {}

  DeadLetters(String topic) {
    super(topic);
  }

  @Override
  public ProducerRecord<byte[], byte[]> serialize(DeadLetter letter, KafkaSinkContext context, Long timestamp) {
    ConsumerRecord<byte[], byte[]> source = letter.source();
    Rejected rejected = letter.rejected();
    Headers headers = rejected.deadLetterHeaders(source.headers().toArray(), source.topic(), source.partition(), source.offset());
    return new ProducerRecord<>(topic, null, source.timestamp(), source.key(), source.value(), headers);
  }
}
