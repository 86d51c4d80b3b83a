package org.rankadaptor.examples;

import static org.rankadaptor.examples.ExperimentStats.METHODS;
import static org.rankadaptor.examples.ExperimentStats.TASKS;
import static org.rankadaptor.examples.ExperimentStats.heldOut;
import static org.rankadaptor.examples.ExperimentStats.measured;
import static org.rankadaptor.examples.ExperimentStats.value;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.rankadaptor.Evaluation;
import org.rankadaptor.examples.ExperimentStats.Stat;

/**
 * The experiment's {@code experiment.json}: every number the report's tables show, as numbers (the pruned
 * parameters also as the table's text), for a reader that should not parse Markdown.
 */
final class ExperimentJson {

  private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private ExperimentJson() {}

  /** Writes the numbers of an experiment to {@code file}. */
  static void write(Path file, ExperimentSetup setup, Map<String, Evaluation> unpruned, List<SettingRun> runs)
      throws IOException {
    JSON.writeValue(file.toFile(), json(setup, unpruned, runs));
  }

  private static ObjectNode json(ExperimentSetup setup, Map<String, Evaluation> unpruned, List<SettingRun> runs) {
    ObjectNode root = JSON.createObjectNode();
    root.put("model", setup.model().name());
    root.put("command", setup.command());
    root.put("seed", setup.seed());
    ArrayNode seeds = root.putArray("heldOutSeeds");
    for (long s : setup.heldOutSeeds()) {
      seeds.add(s);
    }
    root.put("started", setup.started().toString());
    root.put("finished", setup.finished().toString());
    root.put("recoveryFingerprint", setup.recoveryFingerprint());
    ObjectNode base = root.putObject("unpruned");
    unpruned.forEach((task, e) -> base.put(task, value(e)));
    root.set("chance", JSON.valueToTree(setup.chance()));
    ArrayNode settings = root.putArray("settings");
    for (SettingRun run : runs) {
      ObjectNode s = settings.addObject();
      s.put("name", run.setting().name());
      s.put("label", run.setting().label());
      s.put("space", run.space().describe());
      s.put("parameters", MarkdownReport.parameters(run));
      s.put("best", run.result().best().format());
      s.put("stopReason", run.result().search().stopReason().name());
      s.put("targetFineTunes", run.result().search().trace().size());
      s.put("computeSeconds", run.compute().toMillis() / 1000.0);
      ObjectNode methods = s.putObject("methods");
      for (String method : METHODS) {
        if (!measured(run, method)) {
          continue;
        }
        ObjectNode m = methods.putObject(method);
        m.put("ranks", MethodAdapters.ranks(run, method));
        m.put("trainableParameters", MethodAdapters.trainableParameters(run, method));
        ObjectNode tasks = m.putObject("heldOut");
        for (String task : TASKS) {
          Stat st = heldOut(run.result(), method, task);
          ObjectNode t = tasks.putObject(task);
          t.put("mean", st.mean());
          t.put("sd", st.sd());
          t.put("n", st.n());
        }
      }
    }
    return root;
  }
}
