package org.rankadaptor.examples.demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.rankadaptor.dl4j.io.Tokenizer;

/**
 * A word-level tokenizer over a fixed word list: text is split on spaces, each word is one token, a line
 * break is a token of its own. Ids 0, 1, 2 and 3 are unknown, beginning of sequence, end of sequence and
 * line break; the words follow in the list's order.
 */
public final class WordTokenizer implements Tokenizer {

  static final int UNKNOWN = 0;
  static final int BOS = 1;
  static final int EOS = 2;
  static final int NEWLINE = 3;
  private static final int FIRST_WORD = 4;

  private final List<String> words;
  private final Map<String, Integer> ids = new HashMap<>();

  /**
   * A tokenizer of these words.
   *
   * @param words distinct words without white space
   * @throws IllegalArgumentException when a word is empty, repeated or contains white space
   */
  public WordTokenizer(List<String> words) {
    this.words = List.copyOf(words);
    for (int i = 0; i < this.words.size(); i++) {
      String w = this.words.get(i);
      if (w.isEmpty() || w.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("word " + i + " ('" + w + "') is empty or contains white space");
      }
      if (ids.put(w, FIRST_WORD + i) != null) {
        throw new IllegalArgumentException("word '" + w + "' is given twice");
      }
    }
  }

  /** The tokenizer of {@link DemoCorpus}'s words. */
  public static WordTokenizer forDemoCorpus() {
    return new WordTokenizer(DemoCorpus.vocabulary());
  }

  @Override
  public int vocabSize() {
    return FIRST_WORD + words.size();
  }

  @Override
  public int bosId() {
    return BOS;
  }

  @Override
  public int eosId() {
    return EOS;
  }

  /** Words not in the list become the unknown token (id 0). */
  @Override
  public int[] encode(String text, boolean addBos, boolean addEos) {
    List<Integer> out = new ArrayList<>();
    if (addBos) {
      out.add(BOS);
    }
    String[] lines = text.split("\n", -1);
    for (int l = 0; l < lines.length; l++) {
      if (l > 0) {
        out.add(NEWLINE);
      }
      for (String word : lines[l].split(" ")) {
        if (!word.isEmpty()) {
          out.add(ids.getOrDefault(word, UNKNOWN));
        }
      }
    }
    if (addEos) {
      out.add(EOS);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Words joined by spaces, line breaks kept, BOS and EOS dropped, unknown tokens as {@code <unk>}. */
  @Override
  public String decode(int[] tokens) {
    StringBuilder sb = new StringBuilder();
    for (int id : tokens) {
      if (id == NEWLINE) {
        sb.append('\n');
      } else if (id == UNKNOWN || id >= FIRST_WORD && id < vocabSize()) {
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
          sb.append(' ');
        }
        sb.append(id == UNKNOWN ? "<unk>" : words.get(id - FIRST_WORD));
      }
    }
    return sb.toString();
  }
}
