package io.agserver.middleware;

import java.util.concurrent.CompletionStage;

import io.agserver.AGAction;

/**
 * A middleware rule: a CDI bean implementing one of the line interfaces. The beans of a line form
 * a chain ordered by {@code @jakarta.annotation.Priority} (lowest first; no priority counts as
 * {@link #DEFAULT_PRIORITY}). Each bean decides with {@code action.allow()},
 * {@code action.allow(newData)} (the next bean sees the new data) or {@code action.block(error)}
 * (the chain ends). A bean that returns without deciding lets the action through once the
 * returned stage completes; a stage that fails blocks the action with its error.
 */
public interface AGMiddleware {

  int DEFAULT_PRIORITY = 1000;

  /** Decides now, or later (return a stage that completes when decided); null counts as done. */
  CompletionStage<Void> handle(AGAction action);
}
