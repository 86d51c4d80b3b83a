package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file: its string metadata and its tensors in data
 * order. Parsing streams the JSON under bounded nesting and number lengths, refuses duplicate names, and
 * checks that the tensors' data offsets tile the data section exactly (see {@link SafetensorsFile} for
 * the rules); every fault is a {@link SafetensorsFormatException} naming the tensor or field.
 */
record SafetensorsHeader(Map<String, String> metadata, Map<String, SafetensorsTensorInfo> tensors) {

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(40).build())
          .build();

  /**
   * Parses and validates the header JSON of a file whose data section holds {@code dataLength} bytes.
   *
   * @throws SafetensorsFormatException naming the file and the tensor or header field at fault
   */
  static SafetensorsHeader parse(Path file, ByteBuffer bytes, long dataLength)
      throws SafetensorsFormatException {
    String text;
    try {
      text = JsonFiles.strictUtf8(bytes);
    } catch (CharacterCodingException e) {
      throw new SafetensorsFormatException(file, "header", "header is not valid UTF-8", e);
    }
    Map<String, String> metadata = Map.of();
    List<SafetensorsTensorInfo> infos = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    String field = "header";
    try (JsonParser parser = JSON.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new SafetensorsFormatException(file, "header", "header is not a JSON object");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        field = parser.currentName();
        if (!names.add(field)) {
          throw new SafetensorsFormatException(file, field, "appears twice in the header");
        }
        parser.nextToken();
        if (SafetensorsFile.METADATA_FIELD.equals(field)) {
          metadata = parseMetadata(file, parser);
        } else {
          if (infos.size() >= SafetensorsFile.MAX_TENSORS) {
            throw new SafetensorsFormatException(
                file, field, "more than " + SafetensorsFile.MAX_TENSORS + " tensors in one file");
          }
          infos.add(parseTensor(file, field, parser));
        }
      }
      if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
        throw new SafetensorsFormatException(file, "header", "unexpected content after the header object");
      }
    } catch (StreamConstraintsException e) {
      throw new SafetensorsFormatException(file, field, "header exceeds a parser limit: " + e.getOriginalMessage(), e);
    } catch (SafetensorsFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new SafetensorsFormatException(file, field, "invalid header JSON: " + e.getMessage(), e);
    }
    return new SafetensorsHeader(metadata, validateLayout(file, infos, dataLength));
  }

  private static Map<String, String> parseMetadata(Path file, JsonParser parser) throws IOException {
    if (parser.currentToken() == JsonToken.VALUE_NULL) {
      return Map.of();
    }
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw new SafetensorsFormatException(file, SafetensorsFile.METADATA_FIELD, "must be an object of strings");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      if (parser.nextToken() != JsonToken.VALUE_STRING) {
        throw new SafetensorsFormatException(
            file, SafetensorsFile.METADATA_FIELD + "." + key, "metadata values must be strings");
      }
      if (metadata.put(key, parser.getText()) != null) {
        throw new SafetensorsFormatException(file, SafetensorsFile.METADATA_FIELD + "." + key, "appears twice");
      }
    }
    return Collections.unmodifiableMap(metadata);
  }

  private static SafetensorsTensorInfo parseTensor(Path file, String name, JsonParser parser)
      throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw new SafetensorsFormatException(file, name, "tensor entry is not a JSON object");
    }
    SafetensorsDType dtype = null;
    long[] shape = null;
    long[] offsets = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (key) {
        case "dtype" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw new SafetensorsFormatException(file, name, "dtype is not a string");
          }
          String text = parser.getText();
          dtype =
              SafetensorsDType.fromHeaderName(text)
                  .orElseThrow(
                      () -> new SafetensorsFormatException(file, name, "unknown dtype \"" + text + "\""));
        }
        case "shape" -> shape = parseIntegers(file, name, "shape", parser, SafetensorsFile.MAX_RANK);
        case "data_offsets" -> {
          offsets = parseIntegers(file, name, "data_offsets", parser, 2);
          if (offsets.length != 2) {
            throw new SafetensorsFormatException(file, name, "data_offsets must hold two integers");
          }
        }
        default -> parser.skipChildren(); // unknown fields are ignored, as by the reference reader
      }
    }
    if (dtype == null || shape == null || offsets == null) {
      throw new SafetensorsFormatException(
          file, name, "tensor entry needs dtype, shape and data_offsets");
    }
    if (offsets[1] < offsets[0]) {
      throw new SafetensorsFormatException(
          file, name, "data_offsets [" + offsets[0] + ", " + offsets[1] + "] end before they begin");
    }
    long count = 1;
    for (long dimension : shape) {
      try {
        count = Math.multiplyExact(count, dimension);
      } catch (ArithmeticException e) {
        throw new SafetensorsFormatException(file, name, "shape's element count overflows", e);
      }
    }
    long expectedBytes;
    try {
      expectedBytes = Math.multiplyExact(count, (long) dtype.bytes());
    } catch (ArithmeticException e) {
      throw new SafetensorsFormatException(file, name, "shape's byte size overflows", e);
    }
    if (offsets[1] - offsets[0] != expectedBytes) {
      throw new SafetensorsFormatException(
          file,
          name,
          "data_offsets span "
              + (offsets[1] - offsets[0])
              + " bytes but "
              + dtype
              + java.util.Arrays.toString(shape)
              + " needs "
              + expectedBytes);
    }
    return new SafetensorsTensorInfo(name, dtype, shape, offsets[0], offsets[1]);
  }

  private static long[] parseIntegers(
      Path file, String name, String field, JsonParser parser, int maxLength) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw new SafetensorsFormatException(file, name, field + " is not an array");
    }
    long[] values = new long[maxLength];
    int length = 0;
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT
          || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        throw new SafetensorsFormatException(
            file, name, field + " holds something other than an integer in the 64-bit range");
      }
      long value = parser.getLongValue();
      if (value < 0) {
        throw new SafetensorsFormatException(file, name, field + " holds a negative value " + value);
      }
      if (length == maxLength) {
        throw new SafetensorsFormatException(
            file, name, field + " has more than " + maxLength + " entries");
      }
      values[length++] = value;
    }
    return java.util.Arrays.copyOf(values, length);
  }

  private static Map<String, SafetensorsTensorInfo> validateLayout(
      Path file, List<SafetensorsTensorInfo> infos, long dataLength)
      throws SafetensorsFormatException {
    infos.sort(
        Comparator.comparingLong(SafetensorsTensorInfo::begin)
            .thenComparingLong(SafetensorsTensorInfo::end));
    long expectedBegin = 0;
    Map<String, SafetensorsTensorInfo> byName = new LinkedHashMap<>();
    for (SafetensorsTensorInfo info : infos) {
      if (info.begin() != expectedBegin) {
        throw new SafetensorsFormatException(
            file,
            info.name(),
            "data starts at "
                + info.begin()
                + " but the previous tensor ends at "
                + expectedBegin
                + " (offsets must be contiguous and must not overlap)");
      }
      if (info.end() > dataLength) {
        throw new SafetensorsFormatException(
            file,
            info.name(),
            "data ends at " + info.end() + ", past the " + dataLength + "-byte data section");
      }
      expectedBegin = info.end();
      byName.put(info.name(), info);
    }
    if (expectedBegin != dataLength) {
      throw new SafetensorsFormatException(
          file,
          "data_offsets",
          "tensors cover " + expectedBegin + " bytes but the data section holds " + dataLength);
    }
    return Collections.unmodifiableMap(byName);
  }
}
