package sluice.peer;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * A record a stage turned down (thrown by CampaignCheck, shared with the Flink peer): one per
 * invalid message, so it carries no stack trace. Both peers' dead letters carry its reason as
 * Sluice's headers.
 */
final class Rejected extends RuntimeException {
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

  /** The source record's headers, then Sluice's reason and source headers. */
  Headers deadLetterHeaders(Header[] source, String topic, int partition, long offset) {
    Headers headers = new RecordHeaders(source);
    add(headers, "sluice.flow", flow);
    add(headers, "sluice.stage", stage);
    add(headers, "sluice.reason", reason);
    add(headers, "sluice.message", getMessage());
    if (path != null) add(headers, "sluice.path", path);
    add(headers, "sluice.source.topic", topic);
    add(headers, "sluice.source.partition", Integer.toString(partition));
    add(headers, "sluice.source.offset", Long.toString(offset));
    return headers;
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
