package org.rankadaptor.dl4j.io;

import org.rankadaptor.AtomicFiles;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Collects tensors and metadata, then writes one safetensors file. Output is deterministic: metadata
 * first with its keys sorted, then tensors sorted by name, their data in the same order; the header is
 * padded with spaces to a multiple of 8 bytes. With nothing added the file is the canonical empty one: the
 * length 8, then {@code {}} and six spaces.
 *
 * <p>The arrays passed to {@code add} are kept by reference, not copied (a model's weights may be a large
 * part of the heap): they must not change until {@link #write} returns. Floats are stored as F32, or
 * narrowed to F16 or BF16 with round-to-nearest-even; doubles as F64. Not thread-safe.
 *
 * @since 0.1.0
 */
public final class SafetensorsWriter {

  /**
   * The metadata entry Hugging Face loaders expect in PyTorch checkpoints; {@code transformers} refuses a
   * model file whose metadata lacks it. Add it when writing files meant for those loaders.
   */
  public static final Map<String, String> PYTORCH_FORMAT = Map.of("format", "pt");

  private static final JsonFactory JSON = new JsonFactory();
  private static final int WRITE_CHUNK_ELEMENTS = 1 << 16;

  private final Map<String, String> metadata = new TreeMap<>();
  private final Map<String, Entry> tensors = new TreeMap<>();

  private record Entry(SafetensorsDType dtype, long[] shape, float[] floats, double[] doubles) {
    long elementCount() {
      return floats != null ? floats.length : doubles.length;
    }
  }

  /** Adds metadata entries (such as provenance) to the header's {@code __metadata__}. */
  public SafetensorsWriter metadata(Map<String, String> entries) {
    entries.forEach(
        (key, value) ->
            metadata.put(Objects.requireNonNull(key, "metadata key"), Objects.requireNonNull(value, key)));
    return this;
  }

  /** Adds a tensor stored as F32. */
  public SafetensorsWriter add(String name, float[] data, long... shape) {
    return add(name, SafetensorsDType.F32, data, shape);
  }

  /**
   * Adds a tensor stored as {@code dtype}, which must be F32, F16 or BF16.
   *
   * @param shape row-major dimensions whose product is {@code data.length}
   */
  public SafetensorsWriter add(String name, SafetensorsDType dtype, float[] data, long... shape) {
    if (dtype != SafetensorsDType.F32 && dtype != SafetensorsDType.F16 && dtype != SafetensorsDType.BF16) {
      throw new IllegalArgumentException(name + ": floats are written as F32, F16 or BF16, not " + dtype);
    }
    put(name, new Entry(dtype, checkShape(name, shape, data.length), data, null));
    return this;
  }

  /** Adds a tensor stored as F64. */
  public SafetensorsWriter addDoubles(String name, double[] data, long... shape) {
    put(name, new Entry(SafetensorsDType.F64, checkShape(name, shape, data.length), null, data));
    return this;
  }

  /** Writes the file, replacing any existing one; a partly written file never takes its place. */
  public void write(Path file) throws IOException {
    byte[] header = header();
    Path temporary = AtomicFiles.newTemporary(file);
    try {
      try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(temporary), 1 << 16)) {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        out.write(length.array());
        out.write(header);
        for (Entry entry : tensors.values()) {
          writeData(out, entry);
        }
      }
      AtomicFiles.moveInPlace(temporary, file);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  private void put(String name, Entry entry) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.equals(SafetensorsFile.METADATA_FIELD)) {
      throw new IllegalArgumentException("invalid tensor name \"" + name + "\"");
    }
    if (tensors.putIfAbsent(name, entry) != null) {
      throw new IllegalArgumentException(name + ": added twice");
    }
  }

  private static long[] checkShape(String name, long[] shape, int length) {
    if (shape.length > SafetensorsFile.MAX_RANK) {
      throw new IllegalArgumentException(name + ": rank " + shape.length + " exceeds " + SafetensorsFile.MAX_RANK);
    }
    long count = 1;
    for (long dimension : shape) {
      if (dimension < 0) {
        throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
      }
      count = Math.multiplyExact(count, dimension);
    }
    if (count != length) {
      throw new IllegalArgumentException(
          name + ": shape " + Arrays.toString(shape) + " holds " + count + " elements, data has " + length);
    }
    return shape.clone();
  }

  private byte[] header() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JsonGenerator json = JSON.createGenerator(bytes)) {
      json.writeStartObject();
      if (!metadata.isEmpty()) {
        json.writeObjectFieldStart(SafetensorsFile.METADATA_FIELD);
        for (Map.Entry<String, String> entry : metadata.entrySet()) {
          json.writeStringField(entry.getKey(), entry.getValue());
        }
        json.writeEndObject();
      }
      long offset = 0;
      for (Map.Entry<String, Entry> tensor : tensors.entrySet()) {
        Entry entry = tensor.getValue();
        long end = offset + entry.elementCount() * entry.dtype().bytes();
        json.writeObjectFieldStart(tensor.getKey());
        json.writeStringField("dtype", entry.dtype().name());
        json.writeArrayFieldStart("shape");
        for (long dimension : entry.shape()) {
          json.writeNumber(dimension);
        }
        json.writeEndArray();
        json.writeArrayFieldStart("data_offsets");
        json.writeNumber(offset);
        json.writeNumber(end);
        json.writeEndArray();
        json.writeEndObject();
        offset = end;
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory JSON generation failed", e);
    }
    int padding = (8 - bytes.size() % 8) % 8;
    bytes.writeBytes(" ".repeat(padding).getBytes(StandardCharsets.US_ASCII));
    if (bytes.size() > SafetensorsFile.MAX_HEADER_BYTES) {
      throw new IllegalStateException(
          "header of " + bytes.size() + " bytes exceeds " + SafetensorsFile.MAX_HEADER_BYTES);
    }
    return bytes.toByteArray();
  }

  private static void writeData(OutputStream out, Entry entry) throws IOException {
    int size = entry.dtype().bytes();
    int total = (int) entry.elementCount();
    ByteBuffer buffer =
        ByteBuffer.allocate(Math.min(total, WRITE_CHUNK_ELEMENTS) * size).order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < total; start += WRITE_CHUNK_ELEMENTS) {
      int stop = Math.min(total, start + WRITE_CHUNK_ELEMENTS);
      buffer.clear();
      for (int i = start; i < stop; i++) {
        switch (entry.dtype()) {
          case F64 -> buffer.putDouble(entry.doubles()[i]);
          case F32 -> buffer.putFloat(entry.floats()[i]);
          case F16 -> buffer.putShort(HalfFloats.floatToF16(entry.floats()[i]));
          default -> buffer.putShort(HalfFloats.floatToBf16(entry.floats()[i]));
        }
      }
      out.write(buffer.array(), 0, buffer.position());
    }
  }
}
