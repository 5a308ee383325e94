package io.agserver.arquillian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URI;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;

import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.agserver.AGServer;
import io.agserver.auth.jwt.JwtAuthEngine;

/**
 * Identity provider tokens inside the runtime under test (Open Liberty without its mpJwt and
 * jsonp features, Payara Micro with its own MicroProfile JWT and JSON-P): SmallRye JWT, bundled
 * in the WAR, verifies them with a JWK set (read through JSON-P) from the deployment's
 * mp.jwt.* configuration, and its CDI beans stay out of the application.
 */
@ExtendWith(ArquillianExtension.class)
class IdentityProviderInContainerIT {

  static final String NAME = "agserver-idp";
  static final String ISSUER = "https://idp.example.com";

  @Deployment
  static WebArchive deployment() throws Exception {
    File product = new File(System.getProperty("agserver.war", "target/agserver.war"));
    String port = System.getProperty("arquillian.http.port");
    if (port == null) {
      throw new IllegalStateException("set -Darquillian.http.port (the runtime's HTTP port)");
    }
    // The provider's key pair: the public half configured as a JWK set, the private half for
    // the test, which signs the provider's tokens inside the server.
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair idp = generator.generateKeyPair();
    PublicJsonWebKey jwk = PublicJsonWebKey.Factory.newPublicJwk(idp.getPublic());
    jwk.setKeyId("idp-1");
    String config = String.join("\n",
        "# Written by IdentityProviderInContainerIT",
        "mp.jwt.verify.publickey={\"keys\":[" + jwk.toJson() + "]}",
        "mp.jwt.verify.publickey.algorithm=ES256",
        "mp.jwt.verify.issuer=" + ISSUER,
        "socketcluster.warmUp=0",
        "agserver.arquillian.idp.privateKey=" + Base64.getEncoder().encodeToString(idp.getPrivate().getEncoded()),
        "agserver.arquillian.url=ws://127.0.0.1:" + port + "/" + NAME + "/socketcluster/",
        "");
    WebArchive war = ShrinkWrap.create(WebArchive.class, NAME + ".war")
        .merge(ShrinkWrap.createFromZipFile(WebArchive.class, product));
    war.delete("/WEB-INF/classes/META-INF/microprofile-config.properties");
    war.addAsResource(new StringAsset(config), "META-INF/microprofile-config.properties");
    war.addClasses(WsClient.class);
    return war;
  }

  @Inject
  AGServer server;

  @Inject
  BeanManager beans;

  static String providerToken(String subject) throws Exception {
    byte[] der = Base64.getDecoder().decode(
        ConfigProvider.getConfig().getValue("agserver.arquillian.idp.privateKey", String.class));
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    JwtClaims claims = new JwtClaims();
    claims.setIssuer(ISSUER);
    claims.setSubject(subject);
    claims.setIssuedAtToNow();
    claims.setExpirationTimeMinutesInTheFuture(5);
    JsonWebSignature jws = new JsonWebSignature();
    jws.setPayload(claims.toJson());
    jws.setAlgorithmHeaderValue("ES256");
    jws.setKeyIdHeaderValue("idp-1");
    jws.setHeader("typ", "JWT");
    jws.setKey(key);
    return jws.getCompactSerialization();
  }

  @Test
  void theConfiguredProviderVerifiesItsTokens() throws Exception {
    JwtAuthEngine engine = (JwtAuthEngine) server.authEngine();
    assertNotNull(engine.identityProvider(), "mp.jwt.verify.publickey makes an identity provider");
    Map<String, Object> claims = engine.verifyToken(providerToken("user-7"), null).toCompletableFuture().join();
    assertEquals("user-7", claims.get("sub"));
    assertEquals(ISSUER, claims.get("iss"));
  }

  @Test
  void aProviderTokenAuthenticatesASocket() throws Exception {
    URI uri = URI.create(ConfigProvider.getConfig().getValue("agserver.arquillian.url", String.class));
    try (WsClient client = WsClient.connect(uri)) {
      Map<String, Object> answer = client.invoke("#handshake", Map.of("authToken", providerToken("user-8")));
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) answer.get("data");
      assertNotNull(data, "handshake answer " + answer);
      assertEquals(true, data.get("isAuthenticated"), "handshake answer " + answer);
      String id = (String) data.get("id");
      assertEquals("user-8", server.clients().get(id).authToken().get("sub"));
    }
  }

  @Test
  void smallRyeJwtBeansAreNotTheApplications() {
    assertTrue(beans.getBeans(io.smallrye.jwt.auth.principal.JWTAuthContextInfo.class).isEmpty());
    assertTrue(beans.getBeans(io.smallrye.jwt.auth.principal.DefaultJWTParser.class).isEmpty());
  }
}
