package org.rankadaptor.dl4j.predictor;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import org.rankadaptor.AtomicFiles;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.rankadaptor.RankSpace;

/**
 * The saved form of an {@link MlpPerformanceModel}: a zip with {@code model.json} (format, settings,
 * space, normalisation and provenance) and one little-endian float32 entry per array. Every length is
 * derived from the settings and checked against the entry's size before anything is allocated, so a
 * damaged or foreign file fails with a message naming the file and the entry.
 */
final class ModelFile {
  static final String FORMAT = "rankadaptor-mlp/1";
  private static final String HEADER = "model.json";
  private static final long MAX_HEADER_BYTES = 64L << 20;
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ModelFile() {}

  /** What model.json holds. */
  record Header(
      String format,
      MlpConfig config,
      String space,
      int inputs,
      int[] widths,
      long[] memberSeeds, // (member)
      int[] memberIterations, // (member) Adam step counters
      double priorMean,
      double priorStd,
      int sourceTasks,
      int sourceObservations,
      long targetObservations,
      double targetSum,
      double targetSumSquares,
      int trainings,
      double[] replayScores,
      String weightsSha256) {} // of every float entry, name and bytes, in the order written; null in older files

  static void write(Path path, MlpPerformanceModel model, TrainingState state) throws IOException {
    List<TrainingState.Example> replay = state.replay;
    int members = state.members.size();
    long[] seeds = new long[members];
    int[] iterations = new int[members];
    for (int m = 0; m < members; m++) {
      seeds[m] = state.members.get(m).seed();
      iterations[m] = state.members.get(m).iterationCount();
    }
    int inputs = model.space().searchedLayerCount();
    float[] replayInputs = new float[replay.size() * inputs];
    for (int n = 0; n < replay.size(); n++) {
      System.arraycopy(replay.get(n).x(), 0, replayInputs, n * inputs, inputs);
    }
    java.util.LinkedHashMap<String, float[]> entries = new java.util.LinkedHashMap<>();
    entries.put("replay.inputs.f32", replayInputs);
    for (int m = 0; m < members; m++) {
      Member member = state.members.get(m);
      entries.put("member-" + m + ".params.f32", member.parameters());
      entries.put("member-" + m + ".start.f32", member.startParameters());
      entries.put("member-" + m + ".adam.f32", member.optimiserStateVector());
    }
    Hasher weights = Hashing.sha256().newHasher();
    entries.forEach((name, values) -> weights.putString(name, StandardCharsets.UTF_8).putBytes(bytes(values)));
    Header header = new Header(FORMAT, model.config(), model.space().describe(), inputs,
        model.widths(), seeds, iterations, state.priorMean, state.priorStd, state.sourceTasks,
        state.sourceObservations, state.count, state.sum, state.sumSquares, state.trainings,
        replay.stream().mapToDouble(TrainingState.Example::y).toArray(), weights.hash().toString());
    // Written next to the target and moved over it, so a crash never leaves half a model behind.
    Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
    try (OutputStream file = Files.newOutputStream(temporary); ZipOutputStream zip = new ZipOutputStream(file)) {
      zip.putNextEntry(new ZipEntry(HEADER));
      zip.write(JSON.writeValueAsBytes(header));
      zip.closeEntry();
      for (var entry : entries.entrySet()) {
        writeFloats(zip, entry.getKey(), entry.getValue());
      }
    }
    AtomicFiles.moveInPlace(temporary, path);
  }

  static MlpPerformanceModel read(Path path, RankSpace space, MlpConfig expected) throws IOException {
    try (ZipFile zip = new ZipFile(path.toFile())) {
      Header header = readHeader(zip, path);
      if (!FORMAT.equals(header.format())) {
        throw new IOException(path + " has format " + header.format() + ", expected " + FORMAT);
      }
      if (!space.describe().equals(header.space()) || space.searchedLayerCount() != header.inputs()) {
        throw new IOException(path + " was written for the space '" + header.space() + "' ("
            + header.inputs() + " searched layers), not '" + space.describe() + "' ("
            + space.searchedLayerCount() + ")");
      }
      if (header.config() == null) {
        throw new IOException(path + ": model.json has no config");
      }
      if (expected != null && !expected.equals(header.config())) {
        throw new IOException(path + " was written for the configuration " + header.config()
            + ", not " + expected);
      }
      MlpPerformanceModel model = new MlpPerformanceModel(space, header.config());
      if (!Arrays.equals(model.widths(), header.widths())) {
        throw new IOException(path + " declares layer widths " + Arrays.toString(header.widths())
            + " but its configuration gives " + Arrays.toString(model.widths()));
      }
      int members = header.config().ensembleSize();
      if (header.memberSeeds() == null || header.memberSeeds().length != members
          || header.memberIterations() == null || header.memberIterations().length != members) {
        throw new IOException(path + ": model.json must list seeds and step counts of " + members + " networks");
      }
      double[] scores = header.replayScores() == null ? new double[0] : header.replayScores();
      if (scores.length > header.config().replayCapacity()) {
        throw new IOException(path + " holds " + scores.length + " replay observations, over the capacity of "
            + header.config().replayCapacity());
      }
      for (double score : scores) {
        if (!Double.isFinite(score)) {
          throw new IOException(path + ": replay score " + score + " is not finite");
        }
      }
      if (!(header.priorStd() > 0) || !Double.isFinite(header.priorMean()) || header.targetObservations() < 0) {
        throw new IOException(path + ": invalid target normalisation (mean " + header.priorMean() + ", std "
            + header.priorStd() + ", count " + header.targetObservations() + ")");
      }
      Hasher weights = Hashing.sha256().newHasher();
      float[] replayInputs = readFloats(zip, path, "replay.inputs.f32", (long) scores.length * header.inputs(), weights);
      for (float value : replayInputs) {
        if (!Float.isFinite(value)) {
          throw new IOException(path + ": entry replay.inputs.f32 holds the non-finite value " + value);
        }
      }
      List<TrainingState.Example> replay = new ArrayList<>();
      for (int n = 0; n < scores.length; n++) {
        replay.add(new TrainingState.Example(
            Arrays.copyOfRange(replayInputs, n * header.inputs(), (n + 1) * header.inputs()), scores[n]));
      }
      if (header.memberSeeds().length != members) {
        throw new IOException(path + ": " + header.memberSeeds().length + " network seeds for " + members
            + " networks");
      }
      List<Member> restored = model.membersWithSeeds(header.memberSeeds());
      for (int m = 0; m < members; m++) {
        Member member = restored.get(m);
        float[] params = readFloats(zip, path, "member-" + m + ".params.f32", member.parameterCount(), weights);
        float[] start = readFloats(zip, path, "member-" + m + ".start.f32", member.parameterCount(), weights);
        float[] adam = readFloats(zip, path, "member-" + m + ".adam.f32", member.optimiserStateLength(), weights);
        member.restore(params, start, adam, header.memberIterations()[m]);
        if (!member.isFinite()) {
          throw new IOException(path + ": network " + m + " has non-finite parameters");
        }
      }
      String digest = weights.hash().toString();
      if (header.weightsSha256() != null && !header.weightsSha256().equals(digest)) {
        throw new IOException(path + ": the weights' checksum is " + digest + ", model.json says "
            + header.weightsSha256() + "; the file is damaged");
      }
      model.restore(new TrainingState(restored, MlpPerformanceModel.scorerOf(restored),
          header.priorMean(), header.priorStd(), header.sourceTasks(), header.sourceObservations(), replay,
          header.targetObservations(), header.targetSum(), header.targetSumSquares(), header.trainings()));
      return model;
    } catch (ZipException e) {
      throw new IOException(path + " is not a saved MLP performance model (not a zip file): " + e.getMessage(), e);
    }
  }

  private static Header readHeader(ZipFile zip, Path path) throws IOException {
    ZipEntry entry = zip.getEntry(HEADER);
    if (entry == null) {
      throw new IOException(path + " is not a saved MLP performance model: it has no " + HEADER);
    }
    if (entry.getSize() > MAX_HEADER_BYTES) {
      throw new IOException(path + ": " + HEADER + " is " + entry.getSize() + " bytes, over the limit of "
          + MAX_HEADER_BYTES);
    }
    try (InputStream in = zip.getInputStream(entry)) {
      byte[] bytes = in.readNBytes((int) MAX_HEADER_BYTES + 1);
      if (bytes.length > MAX_HEADER_BYTES) {
        throw new IOException(path + ": " + HEADER + " is over the limit of " + MAX_HEADER_BYTES + " bytes");
      }
      checkCrc(path, entry, bytes);
      return JSON.readValue(bytes, Header.class);
    } catch (IOException | IllegalArgumentException e) {
      if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(path.toString())) {
        throw io;
      }
      throw new IOException(path + ": " + HEADER + " is not a valid model description: " + e.getMessage(), e);
    }
  }

  private static void writeFloats(ZipOutputStream zip, String name, float[] values) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    zip.write(bytes(values));
    zip.closeEntry();
  }

  private static byte[] bytes(float[] values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    return buffer.array();
  }

  /** Compares what was read with the entry's CRC-32: the zip reader inflates without checking it. */
  private static void checkCrc(Path path, ZipEntry entry, byte[] bytes) throws IOException {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
      throw new IOException(path + ": entry " + entry.getName() + " fails its CRC-32 check (" + Long.toHexString(
          crc.getValue()) + ", recorded " + Long.toHexString(entry.getCrc()) + "); the file is damaged");
    }
  }

  private static float[] readFloats(ZipFile zip, Path path, String name, long expectedCount, Hasher digest)
      throws IOException {
    ZipEntry entry = zip.getEntry(name);
    if (entry == null) {
      throw new IOException(path + " has no entry " + name);
    }
    long expectedBytes = expectedCount * Float.BYTES;
    if (expectedBytes > Integer.MAX_VALUE - 8) {
      throw new IOException(path + ": entry " + name + " would need " + expectedBytes + " bytes");
    }
    if (entry.getSize() >= 0 && entry.getSize() != expectedBytes) {
      throw new IOException(path + ": entry " + name + " has " + entry.getSize() + " bytes, expected "
          + expectedBytes + " (" + expectedCount + " float32 values)");
    }
    byte[] bytes;
    try (InputStream in = zip.getInputStream(entry)) {
      bytes = in.readNBytes((int) expectedBytes + 1);
    }
    if (bytes.length != expectedBytes) {
      throw new IOException(path + ": entry " + name + " has " + (bytes.length > expectedBytes ? "more" : bytes.length)
          + " bytes, expected " + expectedBytes);
    }
    checkCrc(path, entry, bytes);
    digest.putString(name, StandardCharsets.UTF_8).putBytes(bytes);
    float[] values = new float[(int) expectedCount];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
    return values;
  }
}
