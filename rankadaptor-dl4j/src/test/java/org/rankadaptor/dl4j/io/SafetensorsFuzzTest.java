package org.rankadaptor.dl4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Round trips of random tensors, and damaged files that must fail with a typed exception. */
class SafetensorsFuzzTest {

  private static Path dir;

  @BeforeContainer
  static void createDir() throws IOException {
    dir = Files.createTempDirectory("safetensors-fuzz");
  }

  @AfterContainer
  static void deleteDir() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Files.delete(file);
      }
    }
    Files.delete(dir);
  }

  record Tensor(String name, SafetensorsDType dtype, long[] shape, float[] values) {}

  @Provide
  Arbitrary<List<Tensor>> tensors() {
    Arbitrary<long[]> shapes =
        Arbitraries.longs().between(0, 4).array(long[].class).ofMaxSize(3);
    Arbitrary<SafetensorsDType> dtypes =
        Arbitraries.of(SafetensorsDType.F32, SafetensorsDType.F16, SafetensorsDType.BF16, SafetensorsDType.F64);
    Arbitrary<Tensor> tensor =
        Combinators.combine(
                Arbitraries.strings().withCharRange('a', 'e').withChars('.', '_', '\u00e9').ofMinLength(1).ofMaxLength(6),
                dtypes,
                shapes,
                Arbitraries.floats().array(float[].class).ofSize(64))
            .as(
                (name, dtype, shape, pool) -> {
                  long count = 1;
                  for (long d : shape) {
                    count *= d;
                  }
                  return new Tensor(name, dtype, shape, java.util.Arrays.copyOf(pool, (int) count));
                });
    return tensor.list().ofMaxSize(6).uniqueElements(Tensor::name);
  }

  @Provide
  Arbitrary<Map<String, String>> metadata() {
    return Arbitraries.maps(Arbitraries.strings().ofMaxLength(8), Arbitraries.strings().ofMaxLength(12)).ofMaxSize(3);
  }

  @Property(tries = 150)
  void everyDtypeSurvivesTheRoundTrip(
      @ForAll("tensors") List<Tensor> tensors, @ForAll("metadata") Map<String, String> metadata) throws IOException {
    Path file = dir.resolve("roundtrip.safetensors");
    SafetensorsWriter writer = new SafetensorsWriter().metadata(metadata);
    for (Tensor t : tensors) {
      if (t.dtype() == SafetensorsDType.F64) {
        writer.addDoubles(t.name(), widen(t.values()), t.shape());
      } else {
        writer.add(t.name(), t.dtype(), t.values(), t.shape());
      }
    }
    writer.write(file);
    assertEquals(0, (Files.size(file) - 8 - dataBytes(tensors)) % 8, "header padded to a multiple of 8");
    try (SafetensorsFile read = SafetensorsFile.open(file)) {
      assertEquals(metadata, read.metadata());
      List<String> names = new ArrayList<>(tensors.stream().map(Tensor::name).toList());
      names.sort(null);
      assertEquals(names, read.tensorNames());
      for (Tensor t : tensors) {
        assertEquals(t.dtype(), read.info(t.name()).dtype());
        assertArrayEquals(t.shape(), read.info(t.name()).shape());
        float[] expected = new float[t.values().length];
        for (int i = 0; i < expected.length; i++) {
          float v = t.values()[i];
          expected[i] =
              switch (t.dtype()) {
                case F16 -> HalfFloats.f16ToFloat(HalfFloats.floatToF16(v));
                case BF16 -> HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v));
                default -> v;
              };
        }
        assertArrayEquals(expected, read.readFloats(t.name()), t.name());
        if (t.dtype() == SafetensorsDType.F64) {
          assertArrayEquals(widen(t.values()), read.readDoubles(t.name()), t.name());
        }
      }
    }
  }

  private static long dataBytes(List<Tensor> tensors) {
    return tensors.stream().mapToLong(t -> (long) t.values().length * t.dtype().bytes()).sum();
  }

  private static double[] widen(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  static byte[] validFile() throws IOException {
    Path file = Files.createTempFile("valid", ".safetensors");
    try {
      Map<String, String> metadata = new LinkedHashMap<>();
      metadata.put("format", "pt");
      new SafetensorsWriter()
          .metadata(metadata)
          .add("model.layers.0.self_attn.q_proj.weight", new float[] {1, 2, 3, 4, 5, 6}, 2, 3)
          .add("model.norm.weight", SafetensorsDType.BF16, new float[] {1, -1}, 2)
          .add("h", SafetensorsDType.F16, new float[] {0.5f}, 1)
          .addDoubles("d", new double[] {1e-3}, 1, 1)
          .write(file);
      return Files.readAllBytes(file);
    } finally {
      Files.delete(file);
    }
  }

  @Provide
  Arbitrary<byte[]> damaged() throws IOException {
    return Mutations.of(validFile());
  }

  @Property(tries = 400)
  void damagedFilesOpenOrFailWithATypedException(@ForAll("damaged") byte[] bytes) throws Exception {
    Mutations.assertReadsOrRejects(
        dir.resolve("damaged.safetensors"),
        bytes,
        file -> {
          try (SafetensorsSource source = SafetensorsSource.open(file)) {
            for (String name : source.tensorNames()) {
              SafetensorsTensorInfo info = source.info(name);
              if (info.dtype().isConvertibleToFloat()) {
                assertEquals(info.elementCount(), source.readFloats(name).length);
              }
            }
          }
        });
  }
}
