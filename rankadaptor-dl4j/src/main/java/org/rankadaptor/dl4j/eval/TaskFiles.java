package org.rankadaptor.dl4j.eval;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Reading task files as text, JSON or JSON Lines, with every failure turned into a {@link TaskFormatException}. */
final class TaskFiles {

  /** Task files are a few megabytes; this bounds what a wrong path can make us allocate. */
  static final long MAX_FILE_BYTES = 256L << 20;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private TaskFiles() {}

  /** One parsed line of a JSON Lines file, with its 1-based line number. */
  record JsonLine(int lineNumber, JsonNode node) {
    String where() {
      return "line " + lineNumber;
    }
  }

  static String readText(Path file) {
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw new TaskFormatException(file, "", "", "file of " + size + " bytes exceeds the limit of " + MAX_FILE_BYTES);
      }
      byte[] bytes = Files.readAllBytes(file);
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new TaskFormatException(file, "", "", "not valid UTF-8", e);
    } catch (IOException e) {
      throw new TaskFormatException(file, "", "", "cannot be read: " + e, e);
    }
  }

  /** Lines of a text file without their terminators ({@code \n} or {@code \r\n}). */
  static List<String> lines(Path file) {
    return readText(file).lines().toList();
  }

  /** A file holding one JSON array of objects. */
  static List<JsonNode> jsonArrayOfObjects(Path file) {
    JsonNode root = parse(file, "", readText(file));
    if (!root.isArray()) {
      throw new TaskFormatException(file, "", "", "expected a JSON array, found " + root.getNodeType());
    }
    List<JsonNode> items = new ArrayList<>(root.size());
    for (int i = 0; i < root.size(); i++) {
      JsonNode item = root.get(i);
      if (!item.isObject()) {
        throw new TaskFormatException(file, "item " + i, "", "expected a JSON object, found " + item.getNodeType());
      }
      items.add(item);
    }
    return items;
  }

  /** A JSON Lines file: one object per non-blank line. */
  static List<JsonLine> jsonLinesOfObjects(Path file) {
    List<String> lines = lines(file);
    List<JsonLine> out = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      JsonNode node = parse(file, "line " + (i + 1), line);
      if (!node.isObject()) {
        throw new TaskFormatException(file, "line " + (i + 1), "", "expected a JSON object, found " + node.getNodeType());
      }
      out.add(new JsonLine(i + 1, node));
    }
    return out;
  }

  private static JsonNode parse(Path file, String where, String text) {
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new TaskFormatException(file, where, "", "no JSON value");
      }
      return node;
    } catch (JacksonException e) {
      throw new TaskFormatException(file, where, "", "malformed JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A required string field. */
  static String text(Path file, String where, JsonNode object, String field) {
    JsonNode v = object.get(field);
    if (v == null || v.isNull()) {
      throw new TaskFormatException(file, where, field, "missing");
    }
    if (!v.isTextual()) {
      throw new TaskFormatException(file, where, field, "expected a string, found " + v.getNodeType());
    }
    return v.textValue();
  }

  /** A required non-empty string field. */
  static String nonEmptyText(Path file, String where, JsonNode object, String field) {
    String s = text(file, where, object, field);
    if (s.isEmpty()) {
      throw new TaskFormatException(file, where, field, "is empty");
    }
    return s;
  }

  /** A required object field. */
  static JsonNode object(Path file, String where, JsonNode object, String field) {
    JsonNode v = object.get(field);
    if (v == null || !v.isObject()) {
      throw new TaskFormatException(file, where, field, v == null ? "missing" : "expected an object, found " + v.getNodeType());
    }
    return v;
  }

  /** A required array field. */
  static JsonNode array(Path file, String where, JsonNode object, String field) {
    JsonNode v = object.get(field);
    if (v == null || !v.isArray()) {
      throw new TaskFormatException(file, where, field, v == null ? "missing" : "expected an array, found " + v.getNodeType());
    }
    return v;
  }

  /** A required boolean field; also accepts the strings {@code true} and {@code false}. */
  static boolean bool(Path file, String where, JsonNode object, String field) {
    JsonNode v = object.get(field);
    if (v == null || v.isNull()) {
      throw new TaskFormatException(file, where, field, "missing");
    }
    if (v.isBoolean()) {
      return v.booleanValue();
    }
    if (v.isTextual() && (v.textValue().equals("true") || v.textValue().equals("false"))) {
      return v.textValue().equals("true");
    }
    throw new TaskFormatException(file, where, field, "expected true or false, found " + v);
  }

  /** A required integer field; also accepts an integer written as a string, such as {@code "2"}. */
  static int integer(Path file, String where, JsonNode object, String field) {
    JsonNode v = object.get(field);
    if (v == null || v.isNull()) {
      throw new TaskFormatException(file, where, field, "missing");
    }
    if (v.isIntegralNumber() && v.canConvertToInt()) {
      return v.intValue();
    }
    if (v.isTextual()) {
      try {
        return Integer.parseInt(v.textValue().strip());
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw new TaskFormatException(file, where, field, "expected an integer, found " + v);
  }

  /** Builds an item, turning the item's own validation failure into a located format error. */
  static MultipleChoiceItem item(Path file, String where, Supplier<MultipleChoiceItem> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new TaskFormatException(file, where, "", e.getMessage(), e);
    }
  }
}
