package org.rankadaptor.examples;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rankadaptor} command line. */
@Command(
    name = "rankadaptor",
    mixinStandardHelpOptions = true,
    version = "rankadaptor 0.1.0-SNAPSHOT",
    description = "Per-layer LoRA rank search for recovering structurally pruned LLaMA-style models.",
    subcommands = {DemoCommand.class, RunCommand.class, ExperimentCommand.class, TableCommand.class,
        ReplayCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
