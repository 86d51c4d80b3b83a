package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's help renders as written: picocli treats descriptions as format strings, so a bare
 * {@code %} (as in "10 % of the steps") prints a warning and the raw text instead of the help.
 */
class HelpTextTest {

  @Test
  void everyCommandsHelpRendersWithoutWarnings() {
    CommandLine main = new CommandLine(new Main());
    Map<String, CommandLine> commands = main.getSubcommands();
    assertThat(commands).isNotEmpty();
    PrintStream err = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
      main.getUsageMessage();
      commands.forEach((name, command) -> assertThat(command.getUsageMessage()).as(name).contains("Usage:"));
    } finally {
      System.setErr(err);
    }
    assertThat(warnings.toString(StandardCharsets.UTF_8)).as("picocli warnings while rendering help").isEmpty();
  }
}
