package org.rankadaptor.benchmarks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.io.SafetensorsFile;
import org.rankadaptor.dl4j.io.SafetensorsWriter;

/**
 * Reading one 4M-element tensor (a 2048 x 2048 projection) from a safetensors file into a float[], per
 * stored dtype, against the floor of copying the same file's bytes into a heap buffer. The file sits in
 * the page cache after the first iteration, so this measures decoding, not the disk.
 *
 * <p>Run with {@code java -cp <benchmarks and module classes + dependencies> org.openjdk.jmh.Main
 * SafetensorsRead}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime) // percentiles, so medians can be quoted
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SafetensorsReadBenchmark {

  private static final int SIDE = 2048;

  @Param({"F32", "BF16", "F16"})
  public String dtype;

  private Path file;
  private SafetensorsFile reader;
  private ByteBuffer rawBuffer;

  @Setup(Level.Trial)
  public void writeFile() throws IOException {
    float[] values = new float[SIDE * SIDE];
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian() * 0.02f;
    }
    file = Files.createTempFile("bench", ".safetensors");
    new SafetensorsWriter().add("w", SafetensorsDType.valueOf(dtype), values, SIDE, SIDE).write(file);
    reader = SafetensorsFile.open(file);
    rawBuffer = ByteBuffer.allocate((int) Files.size(file));
  }

  @TearDown(Level.Trial)
  public void deleteFile() throws IOException {
    reader.close();
    Files.delete(file);
  }

  @Benchmark
  public float[] readFloats() throws IOException {
    return reader.readFloats("w");
  }

  /** The floor: the file's bytes copied into the heap, with no decoding. */
  @Benchmark
  public ByteBuffer readRawBytes() throws IOException {
    rawBuffer.clear();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      while (rawBuffer.hasRemaining() && channel.read(rawBuffer) >= 0) {
        // keep reading until the buffer is full
      }
    }
    return rawBuffer;
  }
}
