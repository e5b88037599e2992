package sluice.peer;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Dead letters through Kafka Streams' own dead-letter queue (KIP-1034, Kafka Streams 4.2+): a stage
 * that rejects a record throws {@link Rejected}; this processing exception handler answers with a
 * record for the topic named by {@code errors.dead.letter.queue.topic.name}, which Kafka Streams
 * produces with the task's other outputs (in the transaction under exactly-once), and resumes.
 * The record is the source record's original key and bytes with Sluice's reason headers instead of
 * the built-in handlers' {@code __streams.errors.*} ones (a Java stack trace per record), so the
 * dead letters read as Sluice's do. Any other exception stops the application.
 */
public final class DeadLetters implements ProcessingExceptionHandler {
  private String topic;

  @Override
  public void configure(Map<String, ?> configs) {
    Object name = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    topic = name == null ? null : name.toString();
  }

  @Override
  public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    if (!(exception instanceof Rejected rejected) || topic == null) return Response.fail();
    Headers headers = rejected.deadLetterHeaders(context.headers().toArray(), context.topic(), context.partition(), context.offset());
    // the timestamp of the source record, as Sluice keeps it (the e2e bench measures latency by it)
    return Response.resume(List.of(new ProducerRecord<>(topic, null, context.timestamp(), context.sourceRawKey(), context.sourceRawValue(), headers)));
  }
}
