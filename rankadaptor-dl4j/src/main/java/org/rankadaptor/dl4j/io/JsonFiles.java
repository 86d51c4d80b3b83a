package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Bounded, strict reading of the small JSON files that accompany checkpoints. */
final class JsonFiles {

  /** Shared mapper: duplicate keys are errors, nesting and numbers are bounded. */
  static final ObjectMapper MAPPER =
      JsonMapper.builder(
              com.fasterxml.jackson.core.JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder().maxNestingDepth(200).maxNumberLength(100).build())
                  .build())
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
          .build();

  private JsonFiles() {}

  /**
   * Decodes UTF-8, rejecting malformed input. JSON text is UTF-8 (RFC 8259); decoding it before parsing
   * also stops Jackson from guessing UTF-16 or UTF-32 from the first bytes.
   */
  static String strictUtf8(ByteBuffer bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(bytes)
        .toString();
  }

  /** How a reader turns a problem into its own exception type. */
  interface ErrorFactory {
    FileFormatException create(Path file, String item, String problem, Throwable cause);
  }

  /** {@code node} as indented JSON text with a final newline. */
  static String pretty(JsonNode node) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("in-memory JSON generation failed", e);
    }
  }

  /**
   * Reads a JSON file of at most {@code maxBytes} into a tree, checking the size before reading.
   *
   * @throws FileFormatException (of the factory's type) if it is too large, not JSON, or not an object
   */
  static JsonNode readTree(Path file, long maxBytes, ErrorFactory errors) throws IOException {
    long size = Files.size(file);
    if (size > maxBytes) {
      throw errors.create(file, null, size + " bytes exceeds the limit of " + maxBytes, null);
    }
    String text;
    try {
      text = strictUtf8(ByteBuffer.wrap(Files.readAllBytes(file)));
    } catch (CharacterCodingException e) {
      throw errors.create(file, null, "not valid UTF-8", e);
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1); // RFC 8259 lets parsers ignore a byte order mark
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(text);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw errors.create(file, null, "invalid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw errors.create(file, null, "top level is not a JSON object", null);
    }
    return root;
  }
}
