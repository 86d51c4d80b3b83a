package org.rankadaptor.dl4j.recover;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.rankadaptor.dl4j.testing.ByteTokenizer;

/** Mangled instruction files either load or fail with a {@link TrainingDataException}; nothing else escapes. */
class AlpacaDataFuzzProperties {

  private static final String VALID = "[{\"instruction\": \"Say {input}.\", \"input\": \"x\", \"output\": \"hi\"},"
      + " {\"instruction\": \"Go\", \"input\": \"\", \"output\": \"ok\"}]";

  @Provide
  Arbitrary<String> mangled() {
    Arbitrary<Character> chars = Arbitraries.of('{', '}', '[', ']', '"', ',', ':', '\\', 'n', '1', ' ', '\u00e9');
    return Arbitraries.integers().between(0, VALID.length() - 1).list().ofMinSize(1).ofMaxSize(4)
        .flatMap(positions -> chars.list().ofSize(positions.size()).map(cs -> {
          StringBuilder sb = new StringBuilder(VALID);
          for (int i = 0; i < positions.size(); i++) {
            int at = Math.min(positions.get(i), sb.length() - 1);
            if (cs.get(i) == 'n') {
              sb.setLength(at); // truncate
            } else if (at >= 0) {
              sb.setCharAt(at, cs.get(i));
            }
          }
          return sb.toString();
        }));
  }

  @Property(tries = 150)
  void loadsOrFailsTyped(@ForAll("mangled") String content) throws IOException {
    check(content);
  }

  @Property(tries = 100)
  void arbitraryText(@ForAll String content) throws IOException {
    check(content);
  }

  private static void check(String content) throws IOException {
    Path f = Files.createTempFile("alpaca", ".json");
    try {
      Files.writeString(f, content, StandardCharsets.UTF_8);
      AlpacaData.load(f, new ByteTokenizer(), 512);
    } catch (TrainingDataException expected) {
      // a clear, typed error is the point
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      Files.deleteIfExists(f);
    }
  }
}
