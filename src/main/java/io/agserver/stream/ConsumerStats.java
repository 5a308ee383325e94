package io.agserver.stream;

/**
 * A snapshot of one consumer.
 *
 * @param id           the consumer id, unique within the JVM
 * @param backpressure items written to the consumer and not yet taken by it
 * @param stream       the name of the demuxed stream the consumer belongs to, or {@code null} for a standalone stream
 */
public record ConsumerStats(long id, int backpressure, String stream) {
}
