package sluice.peer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
  /** A record a stage turned down: one per invalid message, so it carries no stack trace. */
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

  private String topic;

  @Override
  public void configure(Map<String, ?> configs) {
    Object name = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    topic = name == null ? null : name.toString();
  }

  @Override
  public Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
    if (!(exception instanceof Rejected rejected) || topic == null) return Response.fail();
    Headers headers = new RecordHeaders(context.headers().toArray());
    add(headers, "sluice.flow", rejected.flow);
    add(headers, "sluice.stage", rejected.stage);
    add(headers, "sluice.reason", rejected.reason);
    add(headers, "sluice.message", rejected.getMessage());
    if (rejected.path != null) add(headers, "sluice.path", rejected.path);
    add(headers, "sluice.source.topic", context.topic());
    add(headers, "sluice.source.partition", Integer.toString(context.partition()));
    add(headers, "sluice.source.offset", Long.toString(context.offset()));
    // the timestamp of the source record, as Sluice keeps it (the e2e bench measures latency by it)
    return Response.resume(List.of(new ProducerRecord<>(topic, null, context.timestamp(), context.sourceRawKey(), context.sourceRawValue(), headers)));
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
