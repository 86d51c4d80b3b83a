/**
 * What {@code rankadaptor demo} runs on, built by the project so that the first command needs no download:
 * {@link org.rankadaptor.examples.demo.DemoCorpus} (generated stories in several domains, the target's and
 * the source tasks'), {@link org.rankadaptor.examples.demo.WordTokenizer} (a word-level tokenizer of that
 * corpus) and {@link org.rankadaptor.examples.demo.DemoModel} (a small LLaMA-architecture model pretrained on
 * it and cached). The command itself and its search are in {@code org.rankadaptor.examples}.
 */
package org.rankadaptor.examples.demo;
