package org.rankadaptor.dl4j.llama;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J workspaces for passes that repeat (pretraining steps, generation steps). A pass allocates
 * buffers as large as its activations; fresh native buffers, freed only when the garbage collector finds
 * them, can cost more than the arithmetic and grow the process by gigabytes. Inside a workspace every array
 * of a pass is carved from one block that the next pass reuses, with results identical to the last digit.
 * LoRA recovery steps, far smaller, showed no difference and run without one. What must outlive a pass
 * (weights, optimiser state, caches, results) is allocated outside it.
 *
 * @since 0.1.0
 */
public final class Workspaces {

  /** Sized by the first pass (the passes that follow have the same shapes), grown if a later one needs more. */
  public static final WorkspaceConfiguration TRAINING_STEP = WorkspaceConfiguration.builder()
      .initialSize(0)
      .policyAllocation(AllocationPolicy.OVERALLOCATE)
      .overallocationLimit(0.2)
      .policyLearning(LearningPolicy.FIRST_LOOP)
      .policySpill(SpillPolicy.REALLOCATE)
      .build();

  private Workspaces() {}

  /**
   * A workspace of a fixed size, for passes whose shapes change from one to the next (a generation step
   * reads one more cached position each time) so that learning its size would reallocate it every pass.
   * What does not fit is allocated outside it.
   */
  public static WorkspaceConfiguration fixed(long bytes) {
    return WorkspaceConfiguration.builder()
        .initialSize(bytes)
        .policyAllocation(AllocationPolicy.STRICT)
        .policyLearning(LearningPolicy.NONE)
        .policySpill(SpillPolicy.EXTERNAL)
        .build();
  }

  /** Opens the workspace {@code id} of this thread for one pass; close it when the pass ends. */
  public static MemoryWorkspace activate(WorkspaceConfiguration configuration, String id) {
    return Nd4j.getWorkspaceManager().getAndActivateWorkspace(configuration, id);
  }

  /** Frees the workspace {@code id} of this thread. */
  public static void destroy(WorkspaceConfiguration configuration, String id) {
    Nd4j.getWorkspaceManager().destroyWorkspace(
        Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(configuration, id));
  }
}
