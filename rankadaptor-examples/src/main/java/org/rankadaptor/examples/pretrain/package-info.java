/**
 * The examples' own models, pretrained by the project and cached by fingerprint: {@link
 * org.rankadaptor.examples.pretrain.Pretraining} (full-weight AdamW on windows of a token stream, in a
 * reused ND4J workspace, and the cache folder) and {@link org.rankadaptor.examples.pretrain.DeepStoriesModel}
 * (the deep test bed's 12-layer model, pretrained on stories sampled from {@code stories260K}). The demo's
 * model ({@code examples.demo.DemoModel}) pretrains through the same loop.
 */
package org.rankadaptor.examples.pretrain;
