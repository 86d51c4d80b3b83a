package org.rankadaptor;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.collect.ImmutableList;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only record of every real evaluation, one JSON object per line (JSON Lines). Each
 * {@link #append} is written, flushed and synced to the device before it returns, so a search that is
 * killed loses at most the evaluation in flight; reopening the file resumes with everything before.
 *
 * <p>A last line cut short by a crash (a "torn" line) is reported by {@link #tornLine()}, moved aside
 * into a file named {@code <store>.torn-<millis>} so that no byte is lost, and cut from the store so
 * that later appends start on a clean line; a complete last line that only lacks its newline is kept.
 * A damaged line anywhere else is an error naming the line: every line must be exactly one observation,
 * with its required fields, the types they are written with and finite numbers.
 *
 * <p>One writer at a time: an open store holds an exclusive lock on its file, and a second {@link #open}
 * (in this process or another) fails with an error naming the holder, recorded beside the store in
 * {@code <store>.lock}. Appends go to the end of the file as it is when writing.
 *
 * <p>Thread-safe. An in-memory store ({@link #inMemory()}) behaves the same without a file.
 *
 * @since 0.1.0
 */
public final class ObservationStore implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ObservationStore.class);
  // Strict on reading: one object per line, no duplicate keys, no number as a string or a string as a
  // number, no fraction where an integer belongs; fields of later versions are ignored.
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .build();

  private final Path path; // null for in-memory
  private final FileChannel channel; // null for in-memory; opened for appending
  private final FileLock lock; // null for in-memory
  private final List<Observation> observations = new ArrayList<>();
  private final String tornLine; // null when none

  private ObservationStore(Path path, FileChannel channel, FileLock lock, List<Observation> loaded, String tornLine) {
    this.path = path;
    this.channel = channel;
    this.lock = lock;
    this.observations.addAll(loaded);
    this.tornLine = tornLine;
  }

  /** A store that keeps observations in memory only. */
  public static ObservationStore inMemory() {
    return new ObservationStore(null, null, null, List.of(), null);
  }

  /**
   * Opens (or creates) a file-backed store and reads the observations already in it.
   *
   * @throws ObservationStoreException if a complete line cannot be parsed (naming file and line), or
   *     the file cannot be read or written
   */
  public static ObservationStore open(Path path) {
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
      FileLock lock;
      try {
        lock = lock(path);
      } catch (RuntimeException | IOException e) {
        channel.close();
        throw e;
      }
      try {
        return load(path, channel, lock);
      } catch (RuntimeException | IOException e) {
        lock.channel().close();
        channel.close();
        throw e;
      }
    } catch (IOException e) {
      throw new ObservationStoreException("cannot open observation store " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * The exclusive lock of the store, taken on {@code <store>.lock} with the holder recorded in it; an error
   * naming the holder if another has it. The lock lives on a file of its own because a POSIX lock is lost
   * when any descriptor of its file closes, and the store's own file is read through another descriptor.
   */
  private static FileLock lock(Path path) throws IOException {
    FileChannel lockChannel = FileChannel.open(holderFile(path), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        throw new ObservationStoreException(path + " is already open in this process; close it before opening it "
            + "again (a store has one writer at a time)", e);
      }
      if (lock == null) {
        ByteBuffer holder = ByteBuffer.allocate((int) Math.min(lockChannel.size(), 4096));
        lockChannel.read(holder, 0);
        String who = new String(holder.array(), 0, holder.position(), StandardCharsets.UTF_8).strip();
        throw new ObservationStoreException(path + " is held by another process (" + (who.isEmpty()
            ? "one that left no record" : who) + "); a store has one writer at a time: wait for it to finish or "
            + "give this run another store");
      }
      ProcessHandle self = ProcessHandle.current();
      byte[] record = ("pid " + self.pid() + " on " + hostName() + ", " + self.info().command().orElse("java")
          + ", since " + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8);
      lockChannel.truncate(0);
      lockChannel.write(ByteBuffer.wrap(record), 0);
      lockChannel.force(false);
      return lock;
    } catch (RuntimeException | IOException e) {
      lockChannel.close();
      throw e;
    }
  }

  private static Path holderFile(Path path) {
    return path.resolveSibling(path.getFileName() + ".lock");
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "this host";
    }
  }

  private static ObservationStore load(Path path, FileChannel channel, FileLock lock) throws IOException {
    byte[] bytes = Files.readAllBytes(path);
    List<Observation> loaded = new ArrayList<>();
    int lineStart = 0;
    int lineNumber = 0;
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == '\n') {
        lineNumber++;
        String line = new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8);
        if (!line.isBlank()) {
          loaded.add(parse(line, path, lineNumber));
        }
        lineStart = i + 1;
      }
    }
    String torn = null;
    if (lineStart < bytes.length) {
      String last = new String(bytes, lineStart, bytes.length - lineStart, StandardCharsets.UTF_8);
      Optional<Observation> complete = tryParse(last);
      if (complete.isPresent()) {
        // A whole record without its newline (written by hand or by another tool): kept, and ended.
        loaded.add(complete.get());
        channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
        channel.force(true);
      } else {
        // No newline after the last record: the process died while writing it.
        torn = last;
        Path aside = path.resolveSibling(path.getFileName() + ".torn-" + System.currentTimeMillis());
        Files.write(aside, torn.getBytes(StandardCharsets.UTF_8));
        channel.truncate(lineStart);
        channel.force(true);
        log.warn(
            "{}: line {} was cut short ({} bytes) and is skipped; it was moved to {}; {} earlier observations kept",
            path, lineNumber + 1, bytes.length - lineStart, aside, loaded.size());
      }
    }
    return new ObservationStore(path, channel, lock, loaded, torn);
  }

  private static Optional<Observation> tryParse(String line) {
    try {
      return Optional.of(JSON.readValue(line, ObservationJson.class).toObservation());
    } catch (JsonProcessingException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Observation parse(String line, Path path, int lineNumber) {
    try {
      return JSON.readValue(line, ObservationJson.class).toObservation();
    } catch (JsonProcessingException | RuntimeException e) {
      throw new ObservationStoreException(
          path + " line " + lineNumber + " is not a valid observation: " + e.getMessage(), e);
    }
  }

  /**
   * Appends an observation and, for a file-backed store, writes it, flushes it and syncs it to the
   * device before returning.
   */
  public synchronized void append(Observation observation) {
    if (channel != null) {
      try {
        byte[] line = (JSON.writeValueAsString(ObservationJson.of(observation)) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.wrap(line);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(false);
      } catch (IOException e) {
        throw new ObservationStoreException("cannot append to observation store " + path + ": " + e.getMessage(), e);
      }
    }
    observations.add(observation);
  }

  /** Every observation, in the order they were appended. */
  public synchronized List<Observation> all() {
    return ImmutableList.copyOf(observations);
  }

  /** The observations of one task, in order. */
  public synchronized List<Observation> forTask(String taskId) {
    return select(o -> o.taskId().equals(taskId));
  }

  /** The observations matching a condition, in order. */
  public synchronized List<Observation> select(Predicate<Observation> condition) {
    return observations.stream().filter(condition).collect(ImmutableList.toImmutableList());
  }

  /**
   * Successful observations grouped by task, for offline meta-learning: an unmodifiable map in the
   * order tasks first appear, each list in store order.
   */
  public synchronized Map<String, List<Observation>> succeededByTask() {
    Map<String, List<Observation>> out = new LinkedHashMap<>();
    for (Observation o : observations) {
      if (o.succeeded()) {
        out.computeIfAbsent(o.taskId(), t -> new ArrayList<>()).add(o);
      }
    }
    out.replaceAll((task, list) -> List.copyOf(list));
    return Collections.unmodifiableMap(out);
  }

  /** Number of observations. */
  public synchronized int size() {
    return observations.size();
  }

  /** The file, or empty for an in-memory store. */
  public Optional<Path> path() {
    return Optional.ofNullable(path);
  }

  /** The cut-short last line found when the store was opened, if any (already moved aside). */
  public Optional<String> tornLine() {
    return Optional.ofNullable(tornLine);
  }

  @Override
  public synchronized void close() {
    if (channel != null && channel.isOpen()) {
      try {
        // The lock file stays (deleting it would let a waiting process lock a file no one else sees); emptied,
        // it says no one holds the store.
        lock.channel().truncate(0);
        lock.release();
        lock.channel().close();
        channel.close();
      } catch (IOException e) {
        throw new ObservationStoreException("cannot close observation store " + path + ": " + e.getMessage(), e);
      }
    }
  }

  /** The JSON form of one line; kept apart so the public records carry no serialisation concerns. */
  record ObservationJson(
      String task,
      String config,
      String status,
      Double score,
      Map<String, Double> metrics,
      Double costSeconds,
      Long seed,
      String modelFingerprint,
      String dataFingerprint,
      Map<String, String> settings,
      String failure,
      String recordedAt) {

    static ObservationJson of(Observation o) {
      Provenance p = o.provenance();
      return new ObservationJson(
          o.taskId(),
          o.config().format(),
          o.status().name(),
          o.succeeded() ? o.score() : null,
          o.metrics(),
          o.costSeconds(),
          p.seed(),
          p.modelFingerprint(),
          p.dataFingerprint(),
          p.settings(),
          o.failure().isEmpty() ? null : o.failure(),
          o.recordedAt().toString());
    }

    Observation toObservation() {
      if (task == null || config == null || status == null || recordedAt == null || seed == null
          || costSeconds == null) {
        throw new IllegalArgumentException(
            "missing one of the fields task, config, status, seed, costSeconds, recordedAt");
      }
      if (!Double.isFinite(costSeconds) || (score != null && !Double.isFinite(score))
          || (metrics != null && metrics.values().stream().anyMatch(v -> v == null || !Double.isFinite(v)))) {
        throw new IllegalArgumentException("a number that is not finite: score " + score + ", costSeconds "
            + costSeconds + ", metrics " + metrics);
      }
      Observation.Status parsedStatus = Observation.Status.valueOf(status);
      return new Observation(
          task,
          RankConfig.parse(config),
          parsedStatus,
          parsedStatus == Observation.Status.SUCCEEDED ? (score == null ? Double.NaN : score) : Double.NaN,
          metrics,
          costSeconds,
          new Provenance(seed, modelFingerprint, dataFingerprint, settings),
          failure,
          Instant.parse(recordedAt));
    }
  }
}
