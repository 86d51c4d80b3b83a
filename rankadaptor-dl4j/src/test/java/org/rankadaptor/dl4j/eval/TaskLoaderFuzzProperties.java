package org.rankadaptor.dl4j.eval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Mangled task files either load or fail with a {@link TaskFormatException}; nothing else escapes. */
class TaskLoaderFuzzProperties {

  private static final String ADAPTERS_ARC = "[{\"instruction\": \"Please choose the correct answer to the question: Q?"
      + "\\n\\nAnswer1: a Answer2: b Answer3: c\\n\\nAnswer format: answer1/answer2/answer3\", \"input\": \"\","
      + " \"output\": \"the correct answer is answer2\", \"answer\": \"answer2\"}]";
  private static final String ADAPTERS_WINO = "[{\"instruction\": \"Please choose the correct answer to fill in the blank"
      + " to complete the given sentence: A _ b.\\n\\nOption1: x Option2: y Answer format: option1/option2\","
      + " \"input\": \"\", \"output\": \"\", \"answer\": \"option1\"}]";
  private static final String ARC = "{\"id\":\"x\",\"question\":{\"stem\":\"Q\",\"choices\":[{\"text\":\"a\",\"label\":\"A\"},"
      + "{\"text\":\"b\",\"label\":\"B\"}]},\"answerKey\":\"B\"}\n";
  private static final String HELLASWAG = "{\"ind\": 1, \"activity_label\": \"L\", \"ctx_a\": \"a\", \"ctx_b\": \"b\","
      + " \"endings\": [\"x\", \"y\"], \"label\": 1}\n";
  private static final String OBQA = "ID\tQuestion Stem\tChoices\tComplete Question\tAnswer Key\n"
      + "1\tStem\t(A) x (B) y (C) z\tStem (A) x (B) y (C) z\tB\n";

  /** A valid file mangled by cutting, inserting, replacing and deleting characters. */
  private static Arbitrary<String> mangled(String valid) {
    Arbitrary<Character> chars = Arbitraries.of('{', '}', '[', ']', '"', ',', ':', '\\', '\t', '\n', '_', '(', ')', 'A', '1', ' ', '\u00e9', '\u0000');
    return Arbitraries.integers().between(1, 6).flatMap(edits -> Arbitraries.integers().between(0, 1 << 20)
        .list().ofSize(edits * 3).flatMap(positions -> chars.list().ofSize(edits).map(inserted -> {
          StringBuilder sb = new StringBuilder(valid);
          for (int e = 0; e < edits; e++) {
            if (sb.length() == 0) {
              break;
            }
            int at = positions.get(3 * e) % sb.length();
            switch (positions.get(3 * e + 1) % 4) {
              case 0 -> sb.setLength(at); // truncate
              case 1 -> sb.insert(at, inserted.get(e));
              case 2 -> sb.setCharAt(at, inserted.get(e));
              default -> sb.delete(at, Math.min(sb.length(), at + 1 + positions.get(3 * e + 2) % 20));
            }
          }
          return sb.toString();
        })));
  }

  @Provide
  Arbitrary<String> adaptersArc() {
    return mangled(ADAPTERS_ARC);
  }

  @Provide
  Arbitrary<String> adaptersWino() {
    return mangled(ADAPTERS_WINO);
  }

  @Provide
  Arbitrary<String> arc() {
    return mangled(ARC + ARC);
  }

  @Provide
  Arbitrary<String> hellaswag() {
    return mangled(HELLASWAG);
  }

  @Provide
  Arbitrary<String> obqa() {
    return mangled(OBQA);
  }

  private static void loadsOrFailsTyped(String content, Function<Path, List<MultipleChoiceItem>> loader) {
    Path f;
    try {
      f = Files.createTempFile("fuzz", ".txt");
      Files.writeString(f, content, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      loader.apply(f);
    } catch (TaskFormatException expected) {
      // a clear, typed error is the point
    } finally {
      try {
        Files.deleteIfExists(f);
      } catch (IOException ignored) {
        // a leftover temp file does not change the outcome
      }
    }
  }

  @Property(tries = 150)
  void llmAdaptersArc(@ForAll("adaptersArc") String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.ARC_EASY));
  }

  @Property(tries = 150)
  void llmAdaptersWinogrande(@ForAll("adaptersWino") String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.WINOGRANDE));
  }

  @Property(tries = 150)
  void arcJsonl(@ForAll("arc") String content) {
    loadsOrFailsTyped(content, TaskLoaders::arcJsonl);
  }

  @Property(tries = 150)
  void hellaswagJsonl(@ForAll("hellaswag") String content) {
    loadsOrFailsTyped(content, TaskLoaders::hellaswagJsonl);
  }

  @Property(tries = 150)
  void openBookQaTsv(@ForAll("obqa") String content) {
    loadsOrFailsTyped(content, TaskLoaders::openBookQaTsv);
  }

  @Property(tries = 100)
  void arbitraryText(@ForAll String content) {
    loadsOrFailsTyped(content, f -> TaskLoaders.llmAdapters(f, ZeroShotTask.BOOLQ));
    loadsOrFailsTyped(content, f -> TaskLoaders.piqaJsonl(f, null));
    loadsOrFailsTyped(content, TaskLoaders::boolqJsonl);
    loadsOrFailsTyped(content, TaskLoaders::winograndeJsonl);
  }
}
