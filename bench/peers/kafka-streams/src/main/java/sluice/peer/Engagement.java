package sluice.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The engagement job, as Sluice's engagement flow: campaign events (same rules; invalid ones are
 * dead letters), heartbeats and events without an itemId dropped, re-keyed by itemId through a
 * repartition topic (groupBy), 1-minute tumbling windows with 10 s grace on event time
 * (occurredAt), aggregated into impressions, clicks, conversions (counts by type) and
 * conversionValue (the sum of value over the window's events), emitted once when the window closes
 * (suppress untilWindowCloses) as JSON: itemId, windowStart, windowEnd (epoch ms), the counts and
 * conversionValue, keyed by itemId.
 */
final class Engagement {
  static final Duration WINDOW = Duration.ofMinutes(1);
  static final Duration GRACE = Duration.ofSeconds(10);
  private static final byte IMPRESSION = 0;
  private static final byte CLICK = 1;
  private static final byte CONVERSION = 2;

  private Engagement() {}

  static void build(StreamsBuilder builder, Map<String, String> options, String schema) {
    builder
        .stream(Arguments.required(options, "input"), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .process(() -> new ContextualProcessor<byte[], byte[], String, byte[]>() {
          private final CampaignCheck check = new CampaignCheck(schema, "engagement", "engagement.validate");

          @Override
          public void process(Record<byte[], byte[]> record) {
            JsonNode event = check.parseValid(record.value());
            JsonNode itemId = event.get("itemId");
            if (CampaignCheck.isHeartbeat(event) || itemId == null) return;
            byte type = switch (event.get("type").textValue()) {
              case "impression" -> IMPRESSION;
              case "click" -> CLICK;
              default -> CONVERSION;
            };
            // as Sluice's aggregate: a conversion whose value is missing or no number is not counted
            // (there a dead letter, E_AGGREGATE_FIELD), rather than summed as 0
            if (type == CONVERSION && !event.path("value").isNumber()) return;
            // a contribution: the type and the value, 9 bytes through the repartition topic
            byte[] contribution = ByteBuffer.allocate(9).put(type).putDouble(type == CONVERSION ? event.get("value").doubleValue() : 0).array();
            context().forward(new Record<>(itemId.textValue(), contribution, event.get("occurredAt").asLong(), record.headers()));
          }
        }, Named.as("validate-filter-key-by-item"))
        .groupByKey(Grouped.with("by-item", Serdes.String(), Serdes.ByteArray()))
        .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, GRACE))
        .aggregate(
            () -> new Totals(0, 0, 0, 0),
            (itemId, contribution, totals) -> totals.add(ByteBuffer.wrap(contribution)),
            Named.as("engagement"),
            Materialized.<String, Totals, WindowStore<Bytes, byte[]>>as("engagement-windows")
                .withKeySerde(Serdes.String())
                .withValueSerde(Totals.SERDE))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()).withName("until-window-closes"))
        .toStream(Named.as("results"))
        .map((window, totals) -> {
          ObjectNode out = JsonNodeFactory.instance.objectNode();
          out.put("itemId", window.key());
          out.put("windowStart", window.window().start());
          out.put("windowEnd", window.window().end());
          out.put("impressions", totals.impressions);
          out.put("clicks", totals.clicks);
          out.put("conversions", totals.conversions);
          out.put("conversionValue", totals.conversionValue);
          return KeyValue.pair(CampaignCheck.utf8(window.key()), CampaignCheck.bytes(out));
        }, Named.as("to-json"))
        .to(Arguments.required(options, "output"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  /** A window's figures; immutable (the store holds its bytes). */
  record Totals(long impressions, long clicks, long conversions, double conversionValue) {
    static final Serde<Totals> SERDE = Serdes.serdeFrom(
        (topic, t) -> t == null ? null : ByteBuffer.allocate(32).putLong(t.impressions).putLong(t.clicks).putLong(t.conversions).putDouble(t.conversionValue).array(),
        (topic, bytes) -> {
          if (bytes == null) return null;
          ByteBuffer b = ByteBuffer.wrap(bytes);
          return new Totals(b.getLong(), b.getLong(), b.getLong(), b.getDouble());
        });

    Totals add(ByteBuffer contribution) {
      byte type = contribution.get();
      double value = contribution.getDouble();
      return new Totals(
          impressions + (type == IMPRESSION ? 1 : 0),
          clicks + (type == CLICK ? 1 : 0),
          conversions + (type == CONVERSION ? 1 : 0),
          conversionValue + value);
    }
  }
}
