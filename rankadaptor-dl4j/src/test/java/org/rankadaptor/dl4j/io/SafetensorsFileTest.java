package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and writing single safetensors files, byte by byte where the format fixes the bytes. */
class SafetensorsFileTest {

  @TempDir Path dir;

  static byte[] fileBytes(String header, byte[] data) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
    out.writeBytes(json);
    out.writeBytes(data);
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  @Test
  void emptyFileIsLengthEightThenBracesAndSixSpaces() throws IOException {
    Path file = dir.resolve("empty.safetensors");
    new SafetensorsWriter().write(file);
    byte[] expected = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    assertArrayEquals(expected, Files.readAllBytes(file));
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      assertEquals(List.of(), read.tensorNames());
      assertEquals(Map.of(), read.metadata());
    }
  }

  @Test
  void writerProducesTheExactHeaderAndData() throws IOException {
    Path file = dir.resolve("one.safetensors");
    new SafetensorsWriter()
        .add("w", new float[] {1.0f, -2.0f}, 2)
        .metadata(Map.of("format", "pt"))
        .write(file);
    String header = "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    String padded = header + " ".repeat((8 - header.length() % 8) % 8);
    byte[] data = {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, (byte) 0xC0};
    assertArrayEquals(fileBytes(padded, data), Files.readAllBytes(file));
    assertEquals(0, (Files.size(file) - 8 - data.length) % 8, "header padded to a multiple of 8");
  }

  @Test
  void writerSortsTensorsByNameWhateverTheOrderOfAddition() throws IOException {
    Path first = dir.resolve("a.safetensors");
    Path second = dir.resolve("b.safetensors");
    new SafetensorsWriter().add("b", new float[] {2}, 1).add("a", new float[] {1}, 1).write(first);
    new SafetensorsWriter().add("a", new float[] {1}, 1).add("b", new float[] {2}, 1).write(second);
    assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));
    try (SafetensorsFile read = SafetensorsFile.open(first)) {
      assertEquals(List.of("a", "b"), read.tensorNames());
    }
  }

  @Test
  void parsesAHandBuiltFileOfKnownBytes() throws IOException {
    // "b" comes first in the JSON but second in the data: order is the offsets', not the header's.
    String header =
        "{\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[12,14]},"
            + "\"__metadata__\":{\"source\":\"hand\"}}  ";
    byte[] data = {
      0, 0, (byte) 0x80, 0x3F, // 1.0f
      0, 0, 0x20, (byte) 0xC0, // -2.5f
      (byte) 0x80, 0x3F, // bf16 1.0
      0x40, (byte) 0xC0, // bf16 -3.0
      0x00, 0x38 // f16 0.5
    };
    Path file = write("hand.safetensors", fileBytes(header, data));
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      assertEquals(List.of("a", "b", "h"), read.tensorNames());
      assertEquals(Map.of("source", "hand"), read.metadata());
      assertArrayEquals(new float[] {1.0f, -2.5f}, read.readFloats("a"));
      assertArrayEquals(new float[] {1.0f, -3.0f}, read.readFloats("b"));
      assertArrayEquals(new double[] {1.0, -3.0}, read.readDoubles("b"));
      assertArrayEquals(new float[] {0.5f}, read.readFloats("h"));
      SafetensorsTensorInfo b = read.info("b");
      assertEquals(SafetensorsDType.BF16, b.dtype());
      assertArrayEquals(new long[] {1, 2}, b.shape());
      assertArrayEquals(new int[] {1, 2}, b.intShape());
      assertEquals(8, b.begin());
      assertEquals(12, b.end());
      assertEquals(0, read.info("h").rank());
      assertEquals(1, read.info("h").elementCount());
    }
  }

  @Test
  void readsF64AndLargeTensorsAcrossReadChunks() throws IOException {
    int n = 700_000; // 2.8 MB of F32: several read chunks
    float[] big = new float[n];
    for (int i = 0; i < n; i++) {
      big[i] = i * 0.5f - 1000f;
    }
    double[] precise = {Math.PI, -Math.E, 1e-300};
    Path file = dir.resolve("big.safetensors");
    new SafetensorsWriter().add("big", big, 700, 1000).addDoubles("precise", precise, 3).write(file);
    try (SafetensorsSource read = SafetensorsSource.open(file)) {
      assertArrayEquals(big, read.readFloats("big"));
      assertArrayEquals(precise, read.readDoubles("precise"));
      assertArrayEquals(new float[] {(float) Math.PI, (float) -Math.E, 0f}, read.readFloats("precise"));
    }
  }

  @Test
  void halfPrecisionWritesAreExactOnRepresentableValuesAndRoundOthers() throws IOException {
    float[] representable = {0f, -0f, 1f, -2.5f, 0.5f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY};
    float[] rounded = {1f + 0x1p-11f, 1f + 0x3p-11f, 70000f, 0.1f};
    Path file = dir.resolve("half.safetensors");
    new SafetensorsWriter()
        .add("f16", SafetensorsDType.F16, representable, representable.length)
        .add("bf16", SafetensorsDType.BF16, new float[] {1f, -3f, 0.15625f}, 3)
        .add("f16rounded", SafetensorsDType.F16, rounded, rounded.length)
        .add("bf16rounded", SafetensorsDType.BF16, new float[] {1f + 0x1p-8f, 0.1f}, 2)
        .write(file);
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      assertArrayEquals(representable, read.readFloats("f16"));
      assertArrayEquals(new float[] {1f, -3f, 0.15625f}, read.readFloats("bf16"));
      assertArrayEquals(
          new float[] {1f, 1f + 0x1p-9f, Float.POSITIVE_INFINITY, 0.099975586f}, read.readFloats("f16rounded"));
      assertArrayEquals(new float[] {1f, 0.10009765625f}, read.readFloats("bf16rounded"));
    }
  }

  @Test
  void writerRejectsInconsistentInput() {
    SafetensorsWriter writer = new SafetensorsWriter().add("x", new float[] {1}, 1);
    assertThrows(IllegalArgumentException.class, () -> writer.add("x", new float[] {1}, 1));
    assertThrows(IllegalArgumentException.class, () -> writer.add("y", new float[] {1, 2}, 3));
    assertThrows(IllegalArgumentException.class, () -> writer.add("z", new float[0], -1));
    assertThrows(IllegalArgumentException.class, () -> writer.add("__metadata__", new float[] {1}, 1));
    assertThrows(IllegalArgumentException.class, () -> writer.add("i", SafetensorsDType.I32, new float[] {1}, 1));
  }

  private SafetensorsFormatException rejected(String header, byte[] data) throws IOException {
    Path file = write("bad.safetensors", fileBytes(header, data));
    SafetensorsFormatException e =
        assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file).close());
    assertEquals(file, e.file());
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    return e;
  }

  private static String one(String dtype, String shape, String offsets) {
    return "{\"t\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
  }

  @Test
  void rejectsMalformedTensorEntriesNamingTheTensor() throws IOException {
    byte[] four = new byte[4];
    assertEquals("t", rejected(one("F31", "[1]", "[0,4]"), four).item().orElseThrow());
    assertTrue(rejected(one("F31", "[1]", "[0,4]"), four).getMessage().contains("unknown dtype"));
    assertEquals("t", rejected(one("F32", "[-1]", "[0,4]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[2]", "[0,4]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[1.5]", "[0,4]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[1]", "[4,0]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[1]", "[0]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[1]", "[0,4,8]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[1]", "[0,99999999999999999999999]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[4294967296,4294967296,4294967296]", "[0,4]"), four).item().orElseThrow());
    assertEquals("t", rejected(one("F32", "[" + "1,".repeat(16) + "1]", "[0,4]"), four).item().orElseThrow());
    assertEquals("t", rejected("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", four).item().orElseThrow());
    assertEquals("t", rejected("{\"t\":[1,2]}", four).item().orElseThrow());
  }

  @Test
  void rejectsBadLayouts() throws IOException {
    String two = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":%s}}";
    assertEquals("b", rejected(String.format(two, "[8,12]"), new byte[12]).item().orElseThrow(), "gap");
    assertEquals("b", rejected(String.format(two, "[0,4]"), new byte[4]).item().orElseThrow(), "overlap");
    assertEquals("a", rejected(String.format(two.replace("\"b\"", "\"a\""), "[4,8]"), new byte[8]).item().orElseThrow(), "duplicate");
    assertEquals("data_offsets", rejected(one("F32", "[1]", "[0,4]"), new byte[8]).item().orElseThrow(), "trailing bytes");
    assertEquals("t", rejected(one("F32", "[2]", "[0,8]"), new byte[4]).item().orElseThrow(), "offsets past end");
  }

  @Test
  void rejectsBadHeaders() throws IOException {
    rejected("[]", new byte[0]);
    rejected("{\"t\":", new byte[0]);
    rejected("{} {}", new byte[0]);
    rejected("{\"__metadata__\":{\"k\":1}}", new byte[0]);
    rejected("{\"__metadata__\":[]}", new byte[0]);
    rejected("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", new byte[0]);
    rejected("{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}", new byte[0]);
    Path notUtf8 = write("latin1.safetensors", fileBytes("{\"\u00e9\":1}", new byte[0]));
    byte[] bytes = Files.readAllBytes(notUtf8);
    bytes[10] = (byte) 0xE9; // a lone Latin-1 byte where UTF-8 needs a sequence
    Files.write(notUtf8, bytes);
    assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(notUtf8));
  }

  @Test
  void rejectsBadHeaderLengthsBeforeAllocating() throws IOException {
    Path tooShort = write("short.safetensors", new byte[] {1, 2, 3});
    assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(tooShort));
    for (long length : new long[] {-1L, Long.MAX_VALUE, SafetensorsFile.MAX_HEADER_BYTES + 1, 1L << 40, 17}) {
      byte[] bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array();
      Path file = write("len.safetensors", bytes);
      SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file));
      assertEquals("header length", e.item().orElseThrow());
    }
  }

  @Test
  void readingAMissingOrNonFloatTensorFailsClearly() throws IOException {
    Path file = write("ints.safetensors", fileBytes(one("I32", "[1]", "[0,4]"), new byte[4]));
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> read.readFloats("t"));
      assertTrue(e.getMessage().contains("I32"));
      e = assertThrows(SafetensorsFormatException.class, () -> read.readFloats("missing"));
      assertEquals("missing", e.item().orElseThrow());
    }
  }

  @Test
  void toleratesUnknownEntryFieldsAndUnpaddedHeaders() throws IOException {
    Path file = write("extra.safetensors",
        fileBytes("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"note\":{\"x\":[1]}}}", new byte[4]));
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      assertArrayEquals(new float[] {0f}, read.readFloats("t"));
    }
  }
}
