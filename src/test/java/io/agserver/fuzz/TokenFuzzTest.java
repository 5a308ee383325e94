package io.agserver.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.agserver.auth.jwt.JwtAuthEngine;
import io.agserver.auth.jwt.JwtKeys;
import io.agserver.protocol.AGError;

/**
 * The token verifier against any token text, and against tokens whose header and claims are any
 * bytes but whose signature is good (so the claims' reading is reached, not only the signature's
 * check). Every outcome is claims or the protocol's error (an AGError, AuthTokenError and the like,
 * that #authenticate answers with); nothing else is thrown, and nothing hangs.
 */
class TokenFuzzTest {

  private static final String KEY = "fuzzing-key-fuzzing-key-fuzzing-key!";
  private static final JwtAuthEngine ENGINE = new JwtAuthEngine(JwtKeys.hmac(KEY, "HS256", null));
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  @FuzzTest
  void anyText(String token) {
    verify(token);
  }

  @FuzzTest
  void signedJunk(FuzzedDataProvider data) throws GeneralSecurityException {
    String header = data.consumeBoolean() ? "{\"alg\":\"HS256\",\"typ\":\"JWT\"}" : data.consumeString(60);
    String claims = data.consumeRemainingAsString();
    String signed = B64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    verify(signed + "." + B64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII))));
  }

  private static void verify(String token) {
    Map<String, Object> claims;
    try {
      claims = ENGINE.verifyToken(token, null).toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | CompletionException e) {
      Throwable cause = e.getCause();
      if (!(cause instanceof AGError)) {
        fail("not the protocol's error for " + token + ": " + cause, cause);
      }
      return;
    } catch (java.util.concurrent.TimeoutException e) {
      fail("verifying " + token + " did not finish");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    assertTrue(claims != null, token);
  }
}
