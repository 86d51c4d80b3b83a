package org.rankadaptor.spark;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
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

  /**
   * What this JVM built, for one setup at a time (a new setup replaces the old, so that models do not pile
   * up), by the GPU it was built on ("" without one): arrays stay on the device they were made on.
   */
  private static final Map<String, FineTuneSetup.Built<?>> BUILT = new HashMap<>();
  private static FineTuneSetup<?> builtFor;

  private final FineTuneSetup<?> setup;

  RunFineTune(FineTuneSetup<?> setup) {
    this.setup = Objects.requireNonNull(setup, "setup");
  }

  @Override
  public Observation call(FineTune fineTune) {
    String device = "";
    TaskContext task = TaskContext.get();
    if (task != null) {
      ResourceInformation gpu = task.resourcesJMap().get("gpu");
      if (gpu != null && gpu.addresses().length > 0) {
        device = gpu.addresses()[0];
        setup.bindDevice(device);
      }
    }
    return run(built(setup, device), fineTune);
  }

  private static FineTuneSetup.Built<?> built(FineTuneSetup<?> setup, String device) {
    synchronized (BUILT) {
      if (!setup.equals(builtFor)) {
        BUILT.clear();
        builtFor = setup;
      }
      return BUILT.computeIfAbsent(device, d -> setup.build());
    }
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
