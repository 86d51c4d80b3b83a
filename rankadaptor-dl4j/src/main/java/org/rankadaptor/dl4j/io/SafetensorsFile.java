package org.rankadaptor.dl4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One safetensors file, opened for reading. The header is parsed and validated completely on
 * {@link #open}; tensor data is read on request, one tensor at a time, through positional reads of a
 * {@link FileChannel} (no memory mapping, which Java 17 cannot release deterministically).
 *
 * <p>Validation follows the reference implementation: the header length is bounded and checked against
 * the file's size before anything is allocated; the header must be UTF-8 JSON holding an object; every
 * tensor needs a known dtype, a shape of non-negative integers whose product does not overflow, and data
 * offsets that, sorted, tile the data section exactly from its first to its last byte, each span being
 * the dtype size times the element count. Anything else raises a {@link SafetensorsFormatException}
 * naming the file and the tensor or header field.
 *
 * @since 0.1.0
 */
public final class SafetensorsFile implements SafetensorsSource {

  /** Largest header accepted, in bytes (the reference implementation's limit). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** Largest number of tensors accepted in one file. */
  public static final int MAX_TENSORS = 1 << 20;

  /** Largest tensor rank accepted. */
  public static final int MAX_RANK = 16;

  /** Name of the header field holding string metadata. */
  public static final String METADATA_FIELD = "__metadata__";

  // Java arrays stop a little short of Integer.MAX_VALUE on common JVMs.
  static final long MAX_ARRAY_ELEMENTS = Integer.MAX_VALUE - 8;

  private static final int READ_CHUNK_BYTES = 1 << 20;

  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(40).build())
          .build();

  private final Path file;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, String> metadata;
  private final Map<String, SafetensorsTensorInfo> tensors; // in data order

  private SafetensorsFile(
      Path file,
      FileChannel channel,
      long dataStart,
      Map<String, String> metadata,
      Map<String, SafetensorsTensorInfo> tensors) {
    this.file = file;
    this.channel = channel;
    this.dataStart = dataStart;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  /**
   * Opens and validates a safetensors file. The returned object holds the file open until closed.
   *
   * @throws SafetensorsFormatException if the file is malformed
   * @throws IOException if it cannot be read
   */
  public static SafetensorsFile open(Path file) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    try {
      long size = channel.size();
      if (size < 8) {
        throw new SafetensorsFormatException(
            file, null, "file has " + size + " bytes, fewer than the 8-byte header length");
      }
      ByteBuffer lengthBytes = readFully(file, channel, 0, 8);
      long headerLength = lengthBytes.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
        throw new SafetensorsFormatException(
            file,
            "header length",
            "header length "
                + Long.toUnsignedString(headerLength)
                + " exceeds the limit of "
                + MAX_HEADER_BYTES
                + " bytes");
      }
      if (headerLength > size - 8) {
        throw new SafetensorsFormatException(
            file,
            "header length",
            "header length " + headerLength + " runs past the end of the " + size + "-byte file");
      }
      ByteBuffer headerBytes = readFully(file, channel, 8, (int) headerLength);
      long dataLength = size - 8 - headerLength;
      Header header = parseHeader(file, headerBytes, dataLength);
      return new SafetensorsFile(file, channel, 8 + headerLength, header.metadata, header.tensors);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public Path file() {
    return file;
  }

  @Override
  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public List<String> tensorNames() {
    return List.copyOf(tensors.keySet());
  }

  @Override
  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** All header entries, in data order. */
  public List<SafetensorsTensorInfo> infos() {
    return List.copyOf(tensors.values());
  }

  @Override
  public SafetensorsTensorInfo info(String name) throws SafetensorsFormatException {
    SafetensorsTensorInfo info = tensors.get(name);
    if (info == null) {
      throw new SafetensorsFormatException(file, name, "no tensor of this name");
    }
    return info;
  }

  @Override
  public float[] readFloats(String name) throws IOException {
    SafetensorsTensorInfo info = convertibleInfo(name);
    float[] out = new float[(int) info.elementCount()];
    // Bulk copies into a scratch array, then a plain loop the JIT can vectorise.
    short[] halves = info.dtype().bytes() == 2 ? new short[READ_CHUNK_BYTES / 2] : null;
    double[] doubles = info.dtype() == SafetensorsDType.F64 ? new double[READ_CHUNK_BYTES / 8] : null;
    int[] next = {0};
    readData(
        info,
        buffer -> {
          int at = next[0];
          switch (info.dtype()) {
            case F32 -> {
              int count = buffer.remaining() / 4;
              buffer.asFloatBuffer().get(out, at, count);
              next[0] += count;
            }
            case F64 -> {
              int count = buffer.remaining() / 8;
              buffer.asDoubleBuffer().get(doubles, 0, count);
              for (int i = 0; i < count; i++) {
                out[at + i] = (float) doubles[i];
              }
              next[0] += count;
            }
            case F16 -> {
              int count = buffer.remaining() / 2;
              buffer.asShortBuffer().get(halves, 0, count);
              for (int i = 0; i < count; i++) {
                out[at + i] = HalfFloats.f16ToFloat(halves[i]);
              }
              next[0] += count;
            }
            default -> {
              int count = buffer.remaining() / 2;
              buffer.asShortBuffer().get(halves, 0, count);
              for (int i = 0; i < count; i++) {
                out[at + i] = HalfFloats.bf16ToFloat(halves[i]);
              }
              next[0] += count;
            }
          }
        });
    return out;
  }

  @Override
  public double[] readDoubles(String name) throws IOException {
    SafetensorsTensorInfo info = convertibleInfo(name);
    double[] out = new double[(int) info.elementCount()];
    int size = info.dtype().bytes();
    int[] next = {0};
    readData(
        info,
        buffer -> {
          while (buffer.remaining() >= size) {
            out[next[0]++] =
                switch (info.dtype()) {
                  case F64 -> buffer.getDouble();
                  case F32 -> buffer.getFloat();
                  case F16 -> HalfFloats.f16ToFloat(buffer.getShort());
                  default -> HalfFloats.bf16ToFloat(buffer.getShort());
                };
          }
        });
    return out;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  private SafetensorsTensorInfo convertibleInfo(String name) throws SafetensorsFormatException {
    SafetensorsTensorInfo info = info(name);
    if (!info.dtype().isConvertibleToFloat()) {
      throw new SafetensorsFormatException(
          file, name, "dtype " + info.dtype() + " cannot be read as floating point");
    }
    if (info.elementCount() > MAX_ARRAY_ELEMENTS) {
      throw new SafetensorsFormatException(
          file, name, info.elementCount() + " elements do not fit in one Java array");
    }
    return info;
  }

  private interface ChunkConsumer {
    void accept(ByteBuffer littleEndianChunk);
  }

  /** Streams a tensor's bytes in chunks that hold whole elements, so no chunk splits one. */
  private void readData(SafetensorsTensorInfo info, ChunkConsumer consumer) throws IOException {
    int elementBytes = info.dtype().bytes();
    int chunkCapacity = READ_CHUNK_BYTES - READ_CHUNK_BYTES % elementBytes;
    long remaining = info.byteLength();
    long position = dataStart + info.begin();
    ByteBuffer buffer =
        ByteBuffer.allocate((int) Math.min(chunkCapacity, remaining)).order(ByteOrder.LITTLE_ENDIAN);
    while (remaining > 0) {
      int length = (int) Math.min(chunkCapacity, remaining);
      buffer.clear().limit(length);
      while (buffer.hasRemaining()) {
        int read = channel.read(buffer, position + buffer.position());
        if (read < 0) {
          throw new SafetensorsFormatException(
              file, info.name(), "file ended inside the tensor's data (was it truncated after opening?)");
        }
      }
      buffer.flip();
      consumer.accept(buffer);
      position += length;
      remaining -= length;
    }
  }

  private static ByteBuffer readFully(Path file, FileChannel channel, long position, int length)
      throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, position + buffer.position()) < 0) {
        throw new SafetensorsFormatException(file, null, "file ended early");
      }
    }
    return buffer.flip();
  }

  private record Header(Map<String, String> metadata, Map<String, SafetensorsTensorInfo> tensors) {}

  private static Header parseHeader(Path file, ByteBuffer bytes, long dataLength)
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
        if (METADATA_FIELD.equals(field)) {
          metadata = parseMetadata(file, parser);
        } else {
          if (infos.size() >= MAX_TENSORS) {
            throw new SafetensorsFormatException(
                file, field, "more than " + MAX_TENSORS + " tensors in one file");
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
    return new Header(metadata, validateLayout(file, infos, dataLength));
  }

  private static Map<String, String> parseMetadata(Path file, JsonParser parser) throws IOException {
    if (parser.currentToken() == JsonToken.VALUE_NULL) {
      return Map.of();
    }
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw new SafetensorsFormatException(file, METADATA_FIELD, "must be an object of strings");
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      if (parser.nextToken() != JsonToken.VALUE_STRING) {
        throw new SafetensorsFormatException(
            file, METADATA_FIELD + "." + key, "metadata values must be strings");
      }
      if (metadata.put(key, parser.getText()) != null) {
        throw new SafetensorsFormatException(file, METADATA_FIELD + "." + key, "appears twice");
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
        case "shape" -> shape = parseIntegers(file, name, "shape", parser, MAX_RANK);
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
