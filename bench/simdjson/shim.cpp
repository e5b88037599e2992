// simdjson as the bench's peer: batch entry points over one buffer of N messages, so the call cost
// is paid once per batch as in the core. Built by build.sh; used only by bench/core.bench.ts.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>
#include "simdjson.h"

namespace {
simdjson::dom::parser parser;
// the JSON pointers (RFC 6901) the flow's rules extract, as set by sj_set_pointers
std::vector<std::string_view> pointers;
char *pointer_text = nullptr;
}  // namespace

extern "C" {

/** Memory for the caller's batch buffers (the inputs need SIMDJSON_PADDING readable bytes after the last message). */
__attribute__((export_name("sj_alloc"))) void *sj_alloc(uint32_t size) { return std::malloc(size); }

__attribute__((export_name("sj_padding"))) uint32_t sj_padding() { return simdjson::SIMDJSON_PADDING; }

/** Sizes the parser once, so no batch allocates; 0 on success. */
__attribute__((export_name("sj_init"))) int sj_init(uint32_t max_message_bytes) {
  return parser.allocate(max_message_bytes) == simdjson::SUCCESS ? 0 : 1;
}

/** Which kernel simdjson picked (in wasm: "fallback", there is no wasm SIMD kernel upstream). */
__attribute__((export_name("sj_implementation"))) const char *sj_implementation() {
  static const std::string name = simdjson::get_active_implementation()->name();
  return name.c_str();
}

/** Newline-separated JSON pointers, copied; the extract entry walks to each. */
__attribute__((export_name("sj_set_pointers"))) void sj_set_pointers(const char *text, uint32_t length) {
  std::free(pointer_text);
  pointer_text = static_cast<char *>(std::malloc(length + 1));
  std::memcpy(pointer_text, text, length);
  pointers.clear();
  uint32_t start = 0;
  for (uint32_t i = 0; i <= length; i++) {
    if (i == length || pointer_text[i] == '\n') {
      if (i > start) pointers.emplace_back(pointer_text + start, i - start);
      start = i + 1;
    }
  }
}

/** Full DOM parse (stage 1 + 2: every byte validated) of each message; verdicts[i] = 1 if valid JSON. Returns the valid count. */
__attribute__((export_name("sj_parse_batch"))) uint32_t sj_parse_batch(const uint8_t *buffer, const uint32_t *offsets, const uint32_t *lengths,
                                                                       uint32_t count, uint8_t *verdicts) {
  uint32_t valid = 0;
  for (uint32_t i = 0; i < count; i++) {
    simdjson::dom::element doc;
    const bool ok = parser.parse(buffer + offsets[i], lengths[i], false).get(doc) == simdjson::SUCCESS;
    verdicts[i] = ok;
    valid += ok;
  }
  return valid;
}

/**
 * The parse above plus a walk to every extracted field (the work the core's validate + extract
 * does beyond parsing, short of the schema's type/range/pattern rules): verdicts[i] = 1 if valid
 * JSON. Returns a checksum over the fields found so the walk cannot be optimised away.
 */
__attribute__((export_name("sj_extract_batch"))) uint32_t sj_extract_batch(const uint8_t *buffer, const uint32_t *offsets,
                                                                           const uint32_t *lengths, uint32_t count, uint8_t *verdicts) {
  uint32_t checksum = 0;
  for (uint32_t i = 0; i < count; i++) {
    simdjson::dom::element doc;
    if (parser.parse(buffer + offsets[i], lengths[i], false).get(doc) != simdjson::SUCCESS) {
      verdicts[i] = 0;
      continue;
    }
    verdicts[i] = 1;
    for (const std::string_view pointer : pointers) {
      simdjson::dom::element field;
      if (doc.at_pointer(pointer).get(field) != simdjson::SUCCESS) continue;
      std::string_view text;
      checksum += field.get_string().get(text) == simdjson::SUCCESS ? static_cast<uint32_t>(text.size()) : static_cast<uint32_t>(field.type());
    }
  }
  return checksum;
}
}
