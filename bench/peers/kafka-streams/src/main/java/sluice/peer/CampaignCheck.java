package sluice.peer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The campaign flow of config/base.conf without its enrichment: parse (Jackson, strict: duplicate
 * keys, trailing data and nesting past 64 fail, as in Sluice's core), validate against the flow's
 * JSON Schema, drop heartbeats, map to the EventRecord JSON Sluice writes (proto3 JSON: default
 * values left out, int64 as a string), keyed by userId. One per stream task: not thread-safe.
 * An invalid event is thrown as {@link Rejected} (the dead-letter queue handler's way).
 *
 * Differences from Sluice's core: every duplicate key fails (the core only checks the properties
 * the rules declare); a pattern's "$" also matches before a final newline (java.util.regex, as
 * networknt runs patterns); syntax codes are Jackson's nearest (E_TOKEN where the core says
 * E_NUMBER). On samples/campaign.ndjson that is 3 of 3000 lines with another outcome.
 */
final class CampaignCheck {
  static final int MAX_SIZE = 1 << 20;
  static final int MAX_DEPTH = 64;

  private static final ObjectMapper WRITER = new ObjectMapper();
  private final String flow;
  private final String stage;
  private final ObjectMapper mapper;
  private final JsonSchema schema;
  // Jackson lets overlong and surrogate UTF-8 sequences through; the core does not
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT)
      .onUnmappableCharacter(CodingErrorAction.REPORT);
  private CharBuffer decoded = CharBuffer.allocate(4096);

  /** Rejections name this flow and stage (as Sluice's dead letters do). */
  CampaignCheck(String schemaText, String flow, String stage) {
    this.flow = flow;
    this.stage = stage;
    JsonFactory factory = JsonFactory.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
        .build();
    mapper = JsonMapper.builder(factory).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();
    // formats asserted, as Sluice's flows assert them (2020-12 makes them annotations by default)
    SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().pathType(PathType.JSON_POINTER).formatAssertionsEnabled(true).build();
    schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7)
        .getSchema(schemaText, config);
  }

  static String readSchema(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private boolean validUtf8(byte[] value) {
    if (decoded.capacity() < value.length) decoded = CharBuffer.allocate(value.length);
    decoded.clear();
    utf8.reset();
    try {
      return !utf8.decode(ByteBuffer.wrap(value), decoded, true).isError() && !utf8.flush(decoded).isError();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * The event, parsed and valid against the flow's schema; else {@link Rejected} with
   * Sluice's reason, which the dead-letter queue handler turns into a dead letter.
   */
  JsonNode parseValid(byte[] value) {
    if (value == null || value.length == 0) throw rejected("E_EMPTY", "no JSON value in the message", null);
    if (value.length > MAX_SIZE) throw rejected("E_SIZE", "message larger than " + MAX_SIZE + " bytes", null);
    if (!validUtf8(value)) throw rejected("E_UTF8", "invalid UTF-8 byte sequence", null);
    JsonNode event;
    try {
      event = mapper.readTree(value);
    } catch (StreamConstraintsException e) {
      throw rejected("E_DEPTH", e.getOriginalMessage(), null);
    } catch (JsonProcessingException e) {
      throw rejected(syntaxCode(e.getOriginalMessage()), e.getOriginalMessage(), null);
    } catch (IOException e) {
      throw rejected("E_TOKEN", e.getMessage(), null);
    }
    if (event == null || event.isMissingNode()) throw rejected("E_EMPTY", "no JSON value in the message", null);
    Set<ValidationMessage> errors = schema.validate(event);
    if (!errors.isEmpty()) {
      ValidationMessage first = errors.iterator().next();
      String path = first.getInstanceLocation().toString();
      if (first.getProperty() != null && ("required".equals(first.getType()) || "additionalProperties".equals(first.getType()))) {
        path = path + "/" + first.getProperty().replace("~", "~0").replace("/", "~1");
      }
      throw rejected(ruleCode(first.getType()), first.getMessage(), path);
    }
    return event;
  }

  static boolean isHeartbeat(JsonNode event) {
    return "heartbeat".equals(event.path("type").asText());
  }

  static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Output JSON (thread-safe, as Jackson's ObjectMapper is once configured). */
  static byte[] bytes(JsonNode node) {
    try {
      return WRITER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The map stage `to-event-record` of config/base.conf, as protobuf-es writes EventRecord to JSON. */
  ObjectNode toEventRecord(JsonNode event) {
    ObjectNode out = mapper.createObjectNode();
    putString(out, "eventId", event.get("eventId"));
    putString(out, "eventType", event.get("type"));
    putString(out, "campaignId", event.get("campaignId"));
    putString(out, "placementId", event.get("placementId"));
    putString(out, "userId", event.get("userId"));
    JsonNode occurredAt = event.get("occurredAt");
    if (occurredAt != null && occurredAt.asLong() != 0) out.put("occurredAtMs", Long.toString(occurredAt.asLong()));
    JsonNode amount = event.get("value");
    if (amount != null && amount.isNumber() && amount.asDouble() != 0) {
      double value = amount.asDouble();
      // JSON.stringify's form: 100, not 100.0
      if (value == Math.rint(value) && Math.abs(value) < 1e15) out.put("value", (long) value);
      else out.put("value", value);
    }
    putString(out, "currency", event.get("currency"));
    putString(out, "itemId", event.get("itemId"));
    putString(out, "deviceOs", event.path("device").get("os"));
    JsonNode consent = event.get("consent");
    if (consent != null && consent.asBoolean()) out.put("consent", true);
    return out;
  }

  private static void putString(ObjectNode out, String name, JsonNode value) {
    if (value != null && value.isTextual() && !value.textValue().isEmpty()) out.put(name, value.textValue());
  }

  private Rejected rejected(String code, String message, String path) {
    return new Rejected(flow, stage, code, message, path);
  }

  /** Jackson's parse errors to the nearest of Sluice's syntax codes. */
  private static String syntaxCode(String message) {
    if (message == null) return "E_TOKEN";
    if (message.startsWith("Duplicate field")) return "E_DUPLICATE_KEY";
    if (message.startsWith("Invalid UTF-8")) return "E_UTF8";
    if (message.startsWith("Unexpected end-of-input")) return "E_UNTERMINATED";
    if (message.startsWith("Trailing token")) return "E_TRAILING";
    if (message.startsWith("Unrecognized character escape")) return "E_ESCAPE";
    if (message.startsWith("Illegal unquoted character")) return "E_CONTROL";
    return "E_TOKEN";
  }

  /** A JSON Schema keyword to Sluice's rule code: minLength -> E_MIN_LENGTH. */
  private static String ruleCode(String keyword) {
    if ("additionalProperties".equals(keyword)) return "E_ADDITIONAL";
    if ("false".equals(keyword)) return "E_FALSE_SCHEMA";
    return "E_" + keyword.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase();
  }
}
