/** JMH microbenchmarks for every op and kernel; run with {@code ./polyv jmh}. */
package ai.polyv.bench.jmh;
