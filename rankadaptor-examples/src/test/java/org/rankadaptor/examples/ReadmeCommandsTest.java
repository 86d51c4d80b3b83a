package org.rankadaptor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rankadaptor.dl4j.testing.SharedFiles;

/**
 * The README's command lines, run as written, so that they cannot rot. The {@code run} example is run with
 * its own data, preset and tasks and a smaller budget (fewer fine-tunes, steps and items), the only change.
 * The first screen's {@code demo} and {@code mvn -B verify} are what CI runs; the {@code experiment},
 * {@code table}, {@code pretrain} and {@code spread} examples are run on tiny settings by their own tests.
 */
class ReadmeCommandsTest {

  private static final Pattern EXEC_ARGS = Pattern.compile("-Dexec\\.args=\"(run [^\"]+)\"", Pattern.DOTALL);

  @TempDir Path dir;

  private static String readme() throws IOException {
    return Files.readString(Path.of("..", "README.md"));
  }

  @Test
  void theRunExampleRunsAsWritten() throws IOException {
    Path data = SharedFiles.require("data");
    Matcher m = EXEC_ARGS.matcher(readme());
    assertThat(m.find()).as("the README has a run example").isTrue();
    List<String> args = new ArrayList<>(Arrays.asList(m.group(1).replace("\\\n", " ").trim().split("\\s+")));
    for (int i = 0; i < args.size(); i++) {
      args.set(i, args.get(i).replace("../shared/data", data.toString()));
    }
    set(args, "--out", dir.resolve("out").toString());
    set(args, "--evaluations", "2");
    set(args, "--steps", "1");
    set(args, "--source-configs", "2");
    set(args, "--eval-items", "10");
    set(args, "--meta-iterations", "5");
    CommandRun run = CommandRun.execute(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(dir.resolve("out/result.json")).exists();
  }

  private static void set(List<String> args, String option, String value) {
    int at = args.indexOf(option);
    if (at < 0) {
      args.add(option);
      args.add(value);
    } else {
      args.set(at + 1, value);
    }
  }
}
