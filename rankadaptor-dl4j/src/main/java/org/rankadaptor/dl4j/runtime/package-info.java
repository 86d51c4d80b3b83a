/**
 * Starting ND4J well on this machine, in one place: which OpenBLAS kernel family to load and how many
 * threads ND4J and OpenBLAS use.
 *
 * <p>{@link org.rankadaptor.dl4j.runtime.Nd4jRuntime#ensureInitialized()} is the one entry point; every
 * other package of the module calls it before its first ND4J operation. The rest is package-private:
 * {@code CoreTypePolicy} decides the kernel family as a pure function of the platform (so that every
 * combination is testable without native code), {@code LinuxCpuFlags} reads {@code /proc/cpuinfo} and
 * {@code LinuxNative} sets a variable in the native process environment through libc.
 *
 * <p>{@link org.rankadaptor.dl4j.runtime.EnvironmentProvenance} records where a run ran (library, Java and
 * ND4J versions, operating system, architecture, backend and what the start-up set) for its provenance.
 *
 * <p>Nothing here computes with the model; nothing here is needed on a non-CPU backend beyond the
 * thread settings.
 */
package org.rankadaptor.dl4j.runtime;
