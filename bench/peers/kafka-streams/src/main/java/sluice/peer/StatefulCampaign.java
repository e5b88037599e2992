package sluice.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.GlobalKTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.ContextualFixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * The campaign job with state, as Sluice's campaign flow with dedupe + lookup: validate, drop
 * heartbeats, drop an event whose eventId was seen in the last 24 h, map, merge the placement's
 * surface and slot from a GlobalKTable of the placements topic (a missing placement is a dead
 * letter, E_LOOKUP_MISS, as the lookup stage's on-missing = dlq).
 *
 * The dedupe store is a persistent (RocksDB) window store, not a timestamped key-value store:
 * its retention (24 h) drops whole expired segments, with no punctuator scanning keys and no
 * tombstone per expired key, and its changelog is created compact,delete with that retention, so
 * the changelog forgets expired ids too (a key-value store's compacted changelog keeps every id
 * until a tombstone deletes it). Time is the record's timestamp.
 */
final class StatefulCampaign {
  static final String SEEN_STORE = "seen-event-ids";
  static final Duration RETENTION = Duration.ofHours(24);

  private StatefulCampaign() {}

  static void build(StreamsBuilder builder, Map<String, String> options, String schema) {
    builder.addStateStore(Stores.windowStoreBuilder(
        Stores.persistentWindowStore(SEEN_STORE, RETENTION, RETENTION, false), Serdes.String(), Serdes.Long()));
    GlobalKTable<String, JsonNode> placements = builder.globalTable(
        Arguments.required(options, "placements"),
        Consumed.with(Serdes.String(), Serdes.serdeFrom((topic, placement) -> placement == null ? null : CampaignCheck.bytes(placement), placementReader())),
        Materialized.<String, JsonNode, KeyValueStore<Bytes, byte[]>>as("placements"));
    builder
        .stream(Arguments.required(options, "input"), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .processValues(() -> new ContextualFixedKeyProcessor<byte[], byte[], ObjectNode>() {
          private final CampaignCheck check = new CampaignCheck(schema, "campaign", "campaign.validate");
          private WindowStore<String, Long> seen;

          @Override
          public void init(FixedKeyProcessorContext<byte[], ObjectNode> context) {
            super.init(context);
            seen = context.getStateStore(SEEN_STORE);
          }

          @Override
          public void process(FixedKeyRecord<byte[], byte[]> record) {
            JsonNode event = check.parseValid(record.value());
            if (CampaignCheck.isHeartbeat(event)) return;
            String eventId = event.get("eventId").textValue();
            long now = record.timestamp();
            try (WindowStoreIterator<Long> earlier = seen.fetch(eventId, now - RETENTION.toMillis() + 1, now)) {
              if (earlier.hasNext()) return; // a duplicate: filtered, as Sluice's dedupe does by default
            }
            seen.put(eventId, now, now);
            context().forward(record.withValue(check.toEventRecord(event)));
          }
        }, Named.as("validate-filter-dedupe-map"), SEEN_STORE)
        .leftJoin(placements, (key, eventRecord) -> eventRecord.get("placementId").textValue(), (eventRecord, placement) -> {
          if (placement == null) {
            throw new Rejected("campaign", "placement", "E_LOOKUP_MISS", "no placement " + eventRecord.get("placementId").textValue() + " in table placements", null);
          }
          putString(eventRecord, "surface", placement.get("surface"));
          putString(eventRecord, "slot", placement.get("slot"));
          return eventRecord;
        }, Named.as("placement"))
        .map((key, eventRecord) -> KeyValue.pair(CampaignCheck.utf8(eventRecord.get("userId").textValue()), CampaignCheck.bytes(eventRecord)))
        .to(Arguments.required(options, "output"), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
  }

  private static void putString(ObjectNode out, String name, JsonNode value) {
    if (value != null && value.isTextual() && !value.textValue().isEmpty()) out.put(name, value.textValue());
  }

  /** A placement row as JSON (samples/placements.ndjson); a tombstone is null. */
  private static Deserializer<JsonNode> placementReader() {
    ObjectMapper mapper = new ObjectMapper();
    return (topic, bytes) -> {
      if (bytes == null) return null;
      try {
        return mapper.readTree(bytes);
      } catch (IOException e) {
        throw new IllegalArgumentException("a placement that is not JSON", e);
      }
    };
  }
}
