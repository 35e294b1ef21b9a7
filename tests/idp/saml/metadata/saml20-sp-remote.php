<?php
// The portal under test, one entry per SAML app the tests configure (sps.json).
foreach (json_decode(file_get_contents(getenv('TEST_IDP_RUN_DIR') . '/sps.json'), true) as $sp) {
    $metadata[$sp['entity_id']] = [
        'AssertionConsumerService' => $sp['acs_url'],
        'SingleLogoutService' => $sp['sls_url'],
        'certificate' => 'sp.crt',
        'assertion.encryption' => $sp['encrypt'],
        'sign.logout' => true,
    ];
}
