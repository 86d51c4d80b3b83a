package org.rankadaptor.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/** The {@code rankadaptor} command line. */
@Command(
    name = "rankadaptor",
    mixinStandardHelpOptions = true,
    version = "rankadaptor 0.1.0-SNAPSHOT",
    description = "Per-layer LoRA rank search for recovering structurally pruned LLaMA-style models.",
    subcommands = {DemoCommand.class, RunCommand.class, PretrainCommand.class, ExperimentCommand.class,
        TableCommand.class, SpreadCommand.class, ReplayCommand.class, ParallelCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Show the log on the console too (by default only warnings; the whole log goes to "
          + "OUT/rankadaptor.log when the command has an output folder).")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with logging configured from the parsed arguments before a command runs. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // A usage error is one line and a pointer to --help, not the whole usage text.
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine failed = e.getCommandLine();
      failed.getErr().println("error: " + e.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(e, failed.getErr());
      failed.getErr().println("Try '" + failed.getCommandSpec().qualifiedName() + " --help' for its options.");
      failed.getErr().flush();
      return failed.getCommandSpec().exitCodeOnInvalidInput();
    });
    cli.setExecutionStrategy(parsed -> {
      configureLogging(parsed);
      return new CommandLine.RunLast().execute(parsed);
    });
    return cli;
  }

  private static void configureLogging(ParseResult parsed) {
    ParseResult command = parsed;
    while (command.subcommand() != null) {
      command = command.subcommand();
    }
    boolean verbose = command.hasMatchedOption("--verbose") || parsed.hasMatchedOption("--verbose");
    Path out = command.hasMatchedOption("--out") ? command.matchedOptionValue("--out", null) : null;
    if (out != null) {
      try {
        Files.createDirectories(out);
      } catch (IOException e) {
        out = null; // the command reports the folder it cannot write
      }
    }
    ConsoleLogging.configure(verbose, out);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
