package io.agserver.ops;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.agserver.config.AGServerOptions;
import io.agserver.config.LimitOptions;

/**
 * {@code socketcluster.maxConnections} and {@code socketcluster.maxConnectionsPerAddress}: how
 * many connections this instance holds, in all and per client address, counted in
 * {@link ConnectionSlot}s. An upgrade request takes a slot before anything else is done for it
 * (middleware, origins, the container's handshake), and is refused when none is left.
 *
 * <p>The counts are exact: one lock, held for a few arithmetic and map operations when a slot is
 * taken or freed (never per message), guards the total and the per-address counts together, so
 * that a refusal always means the limit was reached at that instant. An address's entry is
 * removed when its count returns to zero: the map holds no more entries than there are slots.
 */
public final class ConnectionLimits {

  private static final Logger LOG = Logger.getLogger(ConnectionLimits.class.getName());

  /**
   * Seconds a refused client is told to wait ({@code Retry-After}): the first delay of the
   * official client's reconnection (10 s plus up to 10 s at random), which ignores the header.
   */
  public static final int RETRY_AFTER_SECONDS = 10;

  /** Why an upgrade was refused: the HTTP status, the WebSocket close code and what the client reads. */
  public enum Refusal {
    INSTANCE_FULL(503, AGServerOptions.PREFIX + LimitOptions.MAX_CONNECTIONS, "The server is full"),
    ADDRESS_FULL(429, AGServerOptions.PREFIX + LimitOptions.MAX_CONNECTIONS_PER_ADDRESS,
        "Too many connections from this address");

    private final int status;
    private final String option;
    private final String message;

    Refusal(int status, String option, String message) {
      this.status = status;
      this.option = option;
      this.message = message;
    }

    public int status() {
      return status;
    }

    public String option() {
      return option;
    }

    public String message() {
      return message;
    }
  }

  /** An upgrade's answer: the slot it carries from now on, or why it was refused. */
  public record Admission(ConnectionSlot slot, Refusal refusal) {
    public boolean admitted() {
      return slot != null;
    }
  }

  private final int maxConnections;
  private final int maxPerAddress;
  private final String addressHeader;
  private final long openTimeout;
  private final LongSupplier clock;
  private final Refusals refusals;

  private final Object lock = new Object();
  /** Guarded by lock. */
  private int total;
  /** Guarded by lock; only with a per-address limit. */
  private final Map<String, Integer> perAddress = new HashMap<>();
  /** Slots handed to the container whose connection has not opened yet, each with its deadline. */
  private final Set<ConnectionSlot> awaitingOpen = ConcurrentHashMap.newKeySet();

  /**
   * @param openTimeout milliseconds a slot handed to the container waits for its connection to
   *                    open before it is given up (the handshake timeout)
   * @param clock       the server's time in milliseconds
   */
  public ConnectionLimits(LimitOptions options, long openTimeout, LongSupplier clock, Refusals refusals) {
    this.maxConnections = options.maxConnections();
    this.maxPerAddress = options.maxConnectionsPerAddress();
    this.addressHeader = options.clientAddressHeader().orElse(null);
    this.openTimeout = openTimeout;
    this.clock = clock;
    this.refusals = refusals;
  }

  /** The header the client's address is read from, or null for the connection's own address. */
  public String addressHeader() {
    return addressHeader;
  }

  /** The address a connection counts under ({@link ClientAddress}). */
  public String clientAddress(String remoteAddress, List<String> headerValues) {
    return ClientAddress.of(remoteAddress, addressHeader, headerValues);
  }

  /** Takes a slot for a connection from {@code address}, or says which limit refuses it. */
  public Admission admit(String address) {
    Refusal refusal = null;
    synchronized (lock) {
      if (maxConnections > 0 && total >= maxConnections) {
        refusal = Refusal.INSTANCE_FULL;
      } else if (maxPerAddress > 0 && perAddress.getOrDefault(address, 0) >= maxPerAddress) {
        refusal = Refusal.ADDRESS_FULL;
      } else {
        total++;
        if (maxPerAddress > 0) {
          perAddress.merge(address, 1, Integer::sum);
        }
      }
    }
    if (refusal != null) {
      refusals.connectionRefused(refusal, address);
      return new Admission(null, refusal);
    }
    return new Admission(new ConnectionSlot(this, maxPerAddress > 0 ? address : null), null);
  }

  /**
   * The upgrade request's filter chain has returned with {@code status}. A slot the container
   * never took (its handshake hook did not run) is released now, as is one whose upgrade it
   * answered with an error; one it accepted waits for its connection to open, at most
   * {@code openTimeout} (a client may hang up between the 101 and the container's onOpen).
   */
  public void upgradeAnswered(ConnectionSlot slot, int status) {
    if ((slot.state() == ConnectionSlot.TAKEN || status >= 400) && slot.releaseUnclaimed()) {
      return;
    }
    if (slot.state() != ConnectionSlot.HANDED) {
      return; // its socket owns it already
    }
    slot.openDeadline = clock.getAsLong() + openTimeout;
    awaitingOpen.add(slot);
    // A claim that came between the check and the add found nothing to remove.
    if (slot.state() != ConnectionSlot.HANDED) {
      awaitingOpen.remove(slot);
    }
  }

  /**
   * The slot a new socket owns: the one its upgrade took when it can still claim it, else a new
   * one (a transport without the upgrade filter, or a connection that opened after its slot was
   * given up), which the limits may refuse.
   */
  public Admission claim(ConnectionSlot slot, String remoteAddress, List<String> headerValues) {
    if (slot != null && slot.claim()) {
      return new Admission(slot, null);
    }
    Admission admission = admit(clientAddress(remoteAddress, headerValues));
    if (admission.admitted()) {
      admission.slot().claim();
    }
    return admission;
  }

  /**
   * The timer sweep's round: gives up the slots of upgrades whose connection did not open in
   * time. Costs one check of an empty set when no upgrade is on its way.
   */
  public void expireUnopened(long now) {
    if (awaitingOpen.isEmpty()) {
      return;
    }
    for (ConnectionSlot slot : awaitingOpen) {
      if (slot.state() != ConnectionSlot.HANDED) {
        awaitingOpen.remove(slot);
      } else if (now >= slot.openDeadline && slot.releaseUnclaimed()) {
        if (LOG.isLoggable(Level.FINE)) {
          LOG.fine("agserver: an accepted upgrade from " + slot.address() + " never opened its connection;"
              + " its slot is free again");
        }
      }
    }
  }

  void opened(ConnectionSlot slot) {
    awaitingOpen.remove(slot);
  }

  void free(ConnectionSlot slot) {
    synchronized (lock) {
      total--;
      String address = slot.address();
      if (address != null) {
        perAddress.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
      }
    }
    awaitingOpen.remove(slot);
  }

  /** Slots held now: upgrades on their way and sockets not yet closed. */
  public int connections() {
    synchronized (lock) {
      return total;
    }
  }

  /** Slots held now by connections from {@code address} (with a per-address limit). */
  public int connections(String address) {
    synchronized (lock) {
      return perAddress.getOrDefault(address, 0);
    }
  }

  /** Addresses with at least one slot (with a per-address limit). */
  public int addresses() {
    synchronized (lock) {
      return perAddress.size();
    }
  }

  /** Slots listed as waiting for their connection to open (accepted upgrades not yet opened). */
  public int awaitingOpen() {
    return awaitingOpen.size();
  }
}
