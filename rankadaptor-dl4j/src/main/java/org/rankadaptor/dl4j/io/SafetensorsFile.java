package org.rankadaptor.dl4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * naming the file and the tensor or header field. The header's parsing and validation live in {@link
 * SafetensorsHeader}; this class owns the open file and reads tensor data.
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
      SafetensorsHeader header = SafetensorsHeader.parse(file, headerBytes, dataLength);
      return new SafetensorsFile(file, channel, 8 + headerLength, header.metadata(), header.tensors());
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
}
