package org.rankadaptor.spark;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceInformation;
import org.rankadaptor.FineTune;
import org.rankadaptor.Observation;

/**
 * The Spark task: on the executor, builds (once per JVM) the setup's runner and evaluator, checks that
 * they are the ones the search recorded, binds the task's GPU if Spark assigned one, and runs the fine-tune.
 */
final class RunFineTune implements Function<FineTune, Observation> {
  private static final long serialVersionUID = 1L;

  /** Runner and evaluator built on this JVM, by setup. */
  private static final Map<FineTuneSetup<?>, FineTuneSetup.Built<?>> BUILT = new ConcurrentHashMap<>();

  private final FineTuneSetup<?> setup;

  RunFineTune(FineTuneSetup<?> setup) {
    this.setup = Objects.requireNonNull(setup, "setup");
  }

  @Override
  public Observation call(FineTune fineTune) {
    TaskContext task = TaskContext.get();
    if (task != null) {
      ResourceInformation gpu = task.resourcesJMap().get("gpu");
      if (gpu != null && gpu.addresses().length > 0) {
        setup.bindDevice(gpu.addresses()[0]);
      }
    }
    return run(BUILT.computeIfAbsent(setup, FineTuneSetup::build), fineTune);
  }

  private static <M> Observation run(FineTuneSetup.Built<M> built, FineTune fineTune) {
    check("runner", built.runner().fingerprint(), fineTune.provenance().modelFingerprint());
    check("evaluator", built.evaluator().fingerprint(), fineTune.provenance().dataFingerprint());
    check("task", built.evaluator().taskId(), fineTune.taskId());
    return fineTune.run(built.runner(), built.evaluator());
  }

  private static void check(String what, String here, String searched) {
    if (!here.equals(searched)) {
      throw new IllegalStateException("the executor's " + what + " is not the search's: it has fingerprint '"
          + here + "', the search recorded '" + searched + "'; the executors see another model, data or settings");
    }
  }
}
