package org.rankadaptor.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ConsoleLoggingTest {

  private static final Logger LOG = LoggerFactory.getLogger(ConsoleLoggingTest.class);

  private final PrintStream originalErr = System.err;

  @AfterEach
  void restore() {
    System.setErr(originalErr);
    ConsoleLogging.configure(false, null);
  }

  private static ByteArrayOutputStream captureStderr() {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    return captured;
  }

  @Test
  void byDefaultTheConsoleGetsWarningsAndTheFileEverything(@TempDir Path out) throws IOException {
    ByteArrayOutputStream console = captureStderr();
    Path file = ConsoleLogging.configure(false, out);
    LOG.info("an informative line");
    LOG.warn("a warning");
    String shown = console.toString(StandardCharsets.UTF_8);
    assertFalse(shown.contains("an informative line"), shown);
    assertTrue(shown.contains("a warning"), shown);
    assertEquals(out.resolve(ConsoleLogging.LOG_FILE).toAbsolutePath(), file);
    String logged = Files.readString(file);
    assertTrue(logged.contains("an informative line") && logged.contains("a warning"), logged);
  }

  @Test
  void verboseBringsTheLogBackToTheConsole() {
    ByteArrayOutputStream console = captureStderr();
    assertEquals(null, ConsoleLogging.configure(true, null));
    LOG.info("shown when verbose");
    assertTrue(console.toString(StandardCharsets.UTF_8).contains("shown when verbose"));
  }

  @Test
  void theCommandLineWritesItsLogIntoTheOutputFolder(@TempDir Path out) throws IOException {
    CommandRun run = CommandRun.execute("spread", "--table", out.resolve("missing").toString(), "--out",
        out.toString());
    assertEquals(1, run.exitCode(), run.err());
    assertTrue(Files.isRegularFile(out.resolve(ConsoleLogging.LOG_FILE)), "no log file in the output folder");
  }
}
