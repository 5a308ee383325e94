package io.agserver.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The bucket's arithmetic, on times the test chooses. */
class TokenBucketTest {

  private static int taken(TokenBucket bucket, long at, int tries) {
    int taken = 0;
    for (int i = 0; i < tries; i++) {
      if (bucket.take(at)) {
        taken++;
      }
    }
    return taken;
  }

  @Test
  void aNewBucketHoldsItsBurstThenRefillsAtTheRate() {
    TokenBucket bucket = new TokenBucket(10, 5, 1000);
    assertEquals(5, taken(bucket, 1000, 20));
    assertFalse(bucket.take(1099), "a token before 100 ms at 10 a second");
    assertTrue(bucket.take(1100));
    assertFalse(bucket.take(1100));
    assertEquals(3, taken(bucket, 1400, 20), "300 ms: three tokens");
  }

  @Test
  void itNeverHoldsMoreThanItsBurst() {
    TokenBucket bucket = new TokenBucket(10, 5, 0);
    assertEquals(5, taken(bucket, 3_600_000, 100), "an hour's pause earns a burst, not 36,000 tokens");
    assertEquals(5, taken(bucket, Long.MAX_VALUE, 100), "no overflow however long the pause");
  }

  @Test
  void fractionalRatesAreExact() {
    TokenBucket bucket = new TokenBucket(0.5, 1, 0);
    assertTrue(bucket.take(0));
    assertFalse(bucket.take(1999));
    assertTrue(bucket.take(2000));
    TokenBucket third = new TokenBucket(3, 1, 0);
    assertTrue(third.take(0));
    assertFalse(third.take(333), "333 ms at 3 a second is 0.999 tokens");
    assertTrue(third.take(334));
  }

  @Test
  void aClockSetBackRefillsNothingAndCountsOnFromThere() {
    TokenBucket bucket = new TokenBucket(10, 1, 10_000);
    assertTrue(bucket.take(10_000));
    assertFalse(bucket.take(5_000));
    assertFalse(bucket.take(5_099));
    assertTrue(bucket.take(5_100), "100 ms after the new time");
  }

  @Test
  void refusalsCountUntilTheBucketIsFullAgain() {
    TokenBucket bucket = new TokenBucket(10, 2, 0);
    assertEquals(2, taken(bucket, 0, 2));
    assertFalse(bucket.take(0));
    assertEquals(1, bucket.refused());
    assertEquals(2, bucket.refused());
    assertTrue(bucket.take(100), "one token back: still not full");
    assertFalse(bucket.take(100));
    assertEquals(3, bucket.refused(), "not full since: the count goes on");
    assertTrue(bucket.take(300), "full again at 300 ms");
    assertEquals(1, bucket.refused(), "the pause forgave what came before");
  }
}
