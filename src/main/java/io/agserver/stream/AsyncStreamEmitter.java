package io.agserver.stream;

import java.util.List;
import java.util.Optional;

/**
 * Named event streams, as the original's AsyncStreamEmitter: the base of the server, its sockets
 * and the exchange. {@link #emit} writes an event to the stream of its name; nothing is kept
 * when no one listens.
 */
public class AsyncStreamEmitter {

 private final StreamDemux<Object> listeners = new StreamDemux<>();

 /** Writes the event to the listener stream {@code name}. */
 protected void emit(String name, Object event) {
  listeners.write(name, event);
 }

 /** Whether anyone listens to {@code name}: lets callers skip building an event. */
 protected boolean listens(String name) {
  return listeners.hasConsumers(name);
 }

 /** The stream of one event; the element type follows the event's name. */
 @SuppressWarnings("unchecked")
 public <E> AGStream<E> listener(String eventName) {
  return (AGStream<E>) listeners.stream(eventName);
 }

 public void closeListener(String eventName) {
  listeners.close(eventName);
 }

 public void closeAllListeners() {
  listeners.closeAll();
 }

 public void killListener(String eventName) {
  listeners.kill(eventName);
 }

 public void killAllListeners() {
  listeners.killAll();
 }

 public void killListenerConsumer(long consumerId) {
  listeners.killConsumer(consumerId);
 }

 public int getListenerBackpressure(String eventName) {
  return listeners.getBackpressure(eventName);
 }

 public int getAllListenersBackpressure() {
  return listeners.getBackpressureAll();
 }

 public int getListenerConsumerBackpressure(long consumerId) {
  return listeners.getConsumerBackpressure(consumerId);
 }

 public Optional<ConsumerStats> getListenerConsumerStats(long consumerId) {
  return listeners.getConsumerStats(consumerId);
 }

 public List<ConsumerStats> getListenerConsumerStatsList(String eventName) {
  return listeners.getConsumerStatsList(eventName);
 }

 public List<ConsumerStats> getAllListenersConsumerStatsList() {
  return listeners.getConsumerStatsListAll();
 }

 public boolean hasListenerConsumer(String eventName, long consumerId) {
  return listeners.hasConsumer(eventName, consumerId);
 }

 public boolean hasAnyListenerConsumer(long consumerId) {
  return listeners.hasConsumerAll(consumerId);
 }
}
