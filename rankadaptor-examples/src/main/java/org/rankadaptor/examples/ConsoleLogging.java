package org.rankadaptor.examples;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Where the command line's log goes. The console shows the commands' own progress and results, so log
 * lines would only cut through them: by default the console gets warnings and errors, and the whole log
 * (everything at INFO and above, with dates) goes to {@code rankadaptor.log} in the command's output folder.
 * {@code --verbose} brings the INFO lines back to the console.
 */
final class ConsoleLogging {

  /** The log's file name in an output folder. */
  static final String LOG_FILE = "rankadaptor.log";

  private ConsoleLogging() {}

  /**
   * Configures logging for one command.
   *
   * @param verbose INFO lines on the console too
   * @param outputFolder where the full log goes; null when the command has none
   * @return the log file, or null when there is none (or logging is not Logback, as when the library's
   *     user chose another SLF4J binding)
   */
  static Path configure(boolean verbose, Path outputFolder) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return null;
    }
    context.reset();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);

    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("console");
    console.setTarget("System.err");
    console.setEncoder(encoder(context, "%d{HH:mm:ss} %-5level %logger{0} - %msg%n"));
    ThresholdFilter threshold = new ThresholdFilter();
    threshold.setLevel(verbose ? "INFO" : "WARN");
    threshold.setContext(context);
    threshold.start();
    console.addFilter(threshold);
    console.start();
    root.addAppender(console);

    if (outputFolder == null) {
      return null;
    }
    Path file = outputFolder.resolve(LOG_FILE).toAbsolutePath();
    FileAppender<ILoggingEvent> log = new FileAppender<>();
    log.setContext(context);
    log.setName("file");
    log.setFile(file.toString());
    log.setAppend(true);
    log.setEncoder(encoder(context, "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger - %msg%n"));
    log.start();
    root.addAppender(log);
    return file;
  }

  private static PatternLayoutEncoder encoder(LoggerContext context, String pattern) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(pattern);
    encoder.start();
    return encoder;
  }
}
