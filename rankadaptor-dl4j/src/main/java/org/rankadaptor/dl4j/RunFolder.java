package org.rankadaptor.dl4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.rankadaptor.AtomicFiles;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.io.SafetensorsDType;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.llama.LoraMerge;
import org.rankadaptor.dl4j.llama.PeftAdapters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The output folder of a {@link PrunedModelSearch} run, the one place that knows its layout:
 *
 * <pre>
 * result.json       what the run found ({@value #RESULT_FILE})
 * provenance.json   how it was made: a {@link RunProvenance} ({@value #PROVENANCE_FILE})
 * adapters/         the best configuration's PEFT adapters, when it has any ({@value #ADAPTERS_FOLDER})
 * merged/           the pruned model with those adapters merged in, when asked for ({@value #MERGED_FOLDER})
 * </pre>
 *
 * <p>Every file is written atomically (a temporary file renamed over the old one), so a run killed while
 * writing leaves each file whole, old or new. A later run over the same folder takes the adapters back
 * when {@code result.json} names the same configuration, recovery seed and
 * recovery fingerprint; otherwise, or when they cannot be read, that configuration is recovered again.
 *
 * @since 0.1.0
 */
public final class RunFolder {

  private static final Logger LOG = LoggerFactory.getLogger(RunFolder.class);

  /** Folder of the best configuration's PEFT adapters. */
  public static final String ADAPTERS_FOLDER = "adapters";

  /** Folder of the pruned model with the best adapters merged in. */
  public static final String MERGED_FOLDER = "merged";

  /** The result: best configuration, trace, baselines and comparisons. */
  public static final String RESULT_FILE = "result.json";

  /** How the result was made: a {@link RunProvenance}. */
  public static final String PROVENANCE_FILE = "provenance.json";

  /** Name of the base model in the adapters' config. */
  private static final String BASE_MODEL = "rankadaptor-pruned";

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private final Path root;

  private RunFolder(Path root) {
    this.root = Objects.requireNonNull(root, "root");
  }

  /** The run folder at {@code root}, which need not exist yet. */
  public static RunFolder at(Path root) {
    return new RunFolder(root);
  }

  /** The folder itself. */
  public Path root() {
    return root;
  }

  /** {@value #RESULT_FILE} in the folder. */
  public Path resultFile() {
    return root.resolve(RESULT_FILE);
  }

  /** {@value #PROVENANCE_FILE} in the folder. */
  public Path provenanceFile() {
    return root.resolve(PROVENANCE_FILE);
  }

  /** The {@value #ADAPTERS_FOLDER} folder in the folder. */
  public Path adaptersFolder() {
    return root.resolve(ADAPTERS_FOLDER);
  }

  /** The {@value #MERGED_FOLDER} folder in the folder. */
  public Path mergedFolder() {
    return root.resolve(MERGED_FOLDER);
  }

  /**
   * Reads the provenance a run wrote.
   *
   * @throws IOException when the file is missing or is not a run's provenance
   */
  public RunProvenance readProvenance() throws IOException {
    return JSON.readValue(provenanceFile().toFile(), RunProvenance.class);
  }

  /**
   * The adapters a previous run left here, when its result names the same configuration, recovery seed and
   * recovery fingerprint and they can be read; empty otherwise (a damaged output is recomputed, not fatal).
   */
  Optional<LoraAdapters> previousAdapters(RankConfig best, long recoverySeed, String recoveryFingerprint,
      LlamaModel model) throws IOException {
    Path result = resultFile();
    if (!Files.isRegularFile(result)) {
      return Optional.empty();
    }
    JsonNode json;
    try {
      json = JSON.readTree(result.toFile());
    } catch (IOException e) {
      LOG.warn("{} cannot be read ({}); the best configuration is recovered again", result, e.getMessage());
      return Optional.empty();
    }
    if (!RunResultJson.sameRecovery(json, best, recoverySeed, recoveryFingerprint)) {
      return Optional.empty();
    }
    Path folder = adaptersFolder();
    if (!Files.isDirectory(folder)) {
      return Optional.empty();
    }
    try {
      return Optional.of(PeftAdapters.read(folder, model.config(), model.dataType()));
    } catch (IOException | RuntimeException e) {
      // A damaged output is recomputed: the adapters come from the store's configuration and seed.
      LOG.warn("the adapters in {} cannot be read ({}); the best configuration is recovered again", folder,
          e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Writes a finished run: the adapters (when there are any), the merged model (when asked for), the result
   * and the provenance, in this order.
   *
   * @param model the pruned model the adapters belong to
   * @param adapters the best configuration's adapters
   * @param metadata what the adapters and the merged model record of the run
   * @param saveMerged whether to write the merged model
   */
  Written write(LlamaModel model, LoraAdapters adapters, Map<String, String> metadata, boolean saveMerged,
      JsonNode result, RunProvenance provenance) throws IOException {
    Files.createDirectories(root);
    Optional<Path> adaptersFolder = Optional.empty();
    Optional<Path> merged = Optional.empty();
    if (hasAdapters(adapters)) {
      adaptersFolder = Optional.of(adaptersFolder());
      PeftAdapters.write(adapters, model.config(), adaptersFolder.get(), BASE_MODEL, SafetensorsDType.F32, metadata);
    }
    if (saveMerged) {
      merged = Optional.of(mergedFolder());
      LlamaModel mergedModel = hasAdapters(adapters) ? LoraMerge.merge(model, adapters) : model;
      LlamaCheckpoints.save(mergedModel, merged.get(), metadata);
    }
    AtomicFiles.writeString(resultFile(), JSON.writeValueAsString(result));
    writeProvenance(provenance);
    return new Written(adaptersFolder, merged, resultFile(), provenanceFile());
  }

  /** Writes {@value #PROVENANCE_FILE}, which {@link #readProvenance()} reads back equal. */
  Path writeProvenance(RunProvenance provenance) throws IOException {
    Files.createDirectories(root);
    AtomicFiles.writeString(provenanceFile(), JSON.writeValueAsString(provenance));
    return provenanceFile();
  }

  /** What {@link #write} wrote: the folders only when written. */
  record Written(Optional<Path> adapters, Optional<Path> merged, Path result, Path provenance) {}

  private static boolean hasAdapters(LoraAdapters adapters) {
    for (int l = 0; l < adapters.nLayers(); l++) {
      if (!adapters.layer(l).isEmpty()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
