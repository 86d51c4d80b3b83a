package org.rankadaptor.dl4j.io;

/**
 * Text to token ids and back. Implemented by the llama2.c tokenizer file reader and by the Hugging Face
 * {@code tokenizer.json} reader, so that the model, recovery and evaluation never depend on which one a
 * checkpoint came with.
 *
 * @since 0.1.0
 */
public interface Tokenizer {

  /** Number of token ids; every id returned by {@link #encode} is in {@code [0, vocabSize())}. */
  int vocabSize();

  /** Id of the beginning-of-sequence token. */
  int bosId();

  /** Id of the end-of-sequence token. */
  int eosId();

  /**
   * Encodes text into token ids.
   *
   * @param text the text; never null
   * @param addBos whether to put {@link #bosId()} first
   * @param addEos whether to put {@link #eosId()} last
   */
  int[] encode(String text, boolean addBos, boolean addEos);

  /** Decodes token ids into text; special tokens such as BOS and EOS are dropped. */
  String decode(int[] ids);
}
