package org.rankadaptor.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.rankadaptor.Evaluator;
import org.rankadaptor.Provenance;
import org.rankadaptor.RankConfig;
import org.rankadaptor.dl4j.RecoveredEvaluators;
import org.rankadaptor.dl4j.io.TextFiles;
import org.rankadaptor.dl4j.io.Llama2cCheckpoint;
import org.rankadaptor.dl4j.io.Llama2cTokenizer;
import org.rankadaptor.dl4j.llama.LlamaCheckpoints;
import org.rankadaptor.dl4j.llama.LlamaModel;
import org.rankadaptor.dl4j.llama.LoraAdapters;
import org.rankadaptor.dl4j.recover.RecoveredModel;
import org.rankadaptor.dl4j.recover.TrainingLog;
import org.rankadaptor.examples.pretrain.DeepStoriesModel;
import org.rankadaptor.examples.pretrain.Pretraining;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Builds the deep test model (or finds it in the cache) and compares it with {@code stories260K}, its
 * teacher, on the test bed's validation and test text: what the model reaches, in the terms the test bed
 * measures.
 */
@Command(
    name = "pretrain",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Builds the deep test model: samples stories from stories260K and pretrains a 12-layer model with",
        "grouped-query attention on them, then caches it by fingerprint (a later call, and `--model deep` in",
        "`table` and `experiment`, load it). Prints its perplexity beside stories260K's on held-out TinyStories."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:a file could not be read or written", "2:invalid arguments"})
final class PretrainCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin SharedOptions.Data dataOption = new SharedOptions.Data();

  @Mixin DeepModelOptions deep = new DeepModelOptions();

  @Override
  public Integer call() {
    if (deep.problem() != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), deep.problem());
    }
    if (!Files.isDirectory(dataOption.data)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--data: " + dataOption.data + " is not a folder (the shared data: models/, text/)");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      Path teacherFile = dataOption.data.resolve("models/stories260K/stories260K.bin");
      LlamaModel teacher = LlamaCheckpoints.fromLlama2c(Llama2cCheckpoint.read(teacherFile), DataType.FLOAT);
      Llama2cTokenizer tok =
          Llama2cTokenizer.read(dataOption.data.resolve("models/stories260K/tok512.bin"), teacher.config().vocabSize());
      long start = System.nanoTime();
      DeepStoriesModel.Prepared deepModel = DeepStoriesModel.obtain(deep.cacheRoot(), deep.settings(), teacher,
          StoriesTestBed.sha256(teacherFile), tok, message -> StoriesTestBed.status(err, message));
      List<String> parts = StoriesTestBed.splitStories(
          TextFiles.read(dataOption.data.resolve("text/tinystories/TinyStories-valid-excerpt.txt")));
      List<Evaluator<RecoveredModel>> tasks = List.of(
          RecoveredEvaluators.perplexity("tinystories-valid", parts.get(1), tok).window(StoriesTestBed.WINDOW).build(),
          RecoveredEvaluators.perplexity("tinystories-test", parts.get(2), tok).window(StoriesTestBed.WINDOW).build());
      out.printf(Locale.ROOT, "deep model %s in %s%n", deepModel.pretrainedNow()
          ? String.format(Locale.ROOT, "pretrained in %.0f s on %,d tokens (final training loss %.4f)",
              (System.nanoTime() - start) / 1e9, deepModel.corpusTokens(), deepModel.finalLoss())
          : "loaded from the cache", deepModel.folder());
      out.printf(Locale.ROOT, "%-12s %10s %8s %10s %10s%n", "model", "parameters", "layers", "valid ppl", "test ppl");
      for (var m : List.of(Map.entry("stories260K", teacher), Map.entry("deep", deepModel.model()))) {
        RecoveredModel unadapted = unadapted(m.getValue());
        double[] ppl = tasks.stream().mapToDouble(t -> t.evaluate(unadapted).metrics().get("ppl")).toArray();
        out.printf(Locale.ROOT, "%-12s %,10d %8d %10.3f %10.3f%n", m.getKey(), Pretraining.parameterCount(m.getValue()),
            m.getValue().config().nLayers(), ppl[0], ppl[1]);
      }
      out.flush();
      return 0;
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  /** The model without adapters, as the evaluators take it. */
  static RecoveredModel unadapted(LlamaModel model) {
    int[] zeros = new int[model.config().nLayers()];
    LoraAdapters none = LoraAdapters.init(model.config(), zeros, 1.0, 0, model.dataType());
    TrainingLog log = new TrainingLog(List.of(), List.of(), 0, Double.NaN, 0, 0, 0);
    return new RecoveredModel(model, none, RankConfig.of(zeros), log, new Provenance(0, "unpruned", "", Map.of()));
  }
}
